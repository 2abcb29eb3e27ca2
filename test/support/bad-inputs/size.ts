// Attack family "lengths of the request": over MAX_BODY_BYTES, over MAX_POINTS_PER_REQUEST, and the edges that pass.
import { GHOST_PREFIX, bodyError, readingsError, type CorpusKit } from './kit.js';
import { DAY, J, NAMES_SIZE, NAMES_TOO_MANY, rawArray } from './raw-json.js';

const MiB = 1024 * 1024;

/** `json` followed by spaces up to `size` bytes: still one valid document. */
const padded = (json: string, size: number) => {
  const buf = Buffer.alloc(size, 0x20);
  buf.write(json, 0, 'utf8');
  return buf;
};

export function addSizeCases(kit: CorpusKit): void {
  const { maxBodyBytes, maxPoints } = kit.opts;
  const tooLarge = bodyError([413], NAMES_SIZE);
  const tooMany = bodyError([413], NAMES_TOO_MANY);
  const overSize = maxBodyBytes + 1;
  const g = () => kit.validReading(kit.ghost());
  kit.add(
    'size',
    `valid reading padded to MAX_BODY_BYTES + 1 (${overSize} bytes)`,
    kit.post(padded(rawArray([g()]), overSize)),
    tooLarge,
  );
  kit.add('size', 'valid reading padded to 6 MiB', kit.post(padded(g(), 6 * MiB)), tooLarge);
  kit.add('size', 'valid reading padded to 24 MiB', kit.post(padded(g(), 24 * MiB)), tooLarge);
  kit.add('size', 'invalid JSON of 6 MiB', kit.post(Buffer.alloc(6 * MiB, 0x7b)), tooLarge);
  kit.add(
    'size',
    `valid reading padded to MAX_BODY_BYTES + 1, sent chunked (no content-length)`,
    kit.post({ chunked: padded(rawArray([g()]), overSize) }),
    tooLarge,
  );
  const chunkedReading = `{"sensorId":"${GHOST_PREFIX}0","metric":"m","value":1.25,"x":"${'p'.repeat(40)}"}`;
  kit.add(
    'size',
    '6 MiB of readings sent chunked',
    kit.post({ chunked: Buffer.from(rawArray(Array.from({ length: 60_000 }, () => chunkedReading))) }),
    tooLarge,
  );
  // too big and not JSON: either refusal is documented
  kit.add('size', 'text/plain of 6 MiB', kit.post(Buffer.alloc(6 * MiB, 0x61), { 'content-type': 'text/plain' }), {
    status: [413, 415],
  });
  const tiny = () => `{"sensorId":${J(kit.ghost())},"metric":"m","value":1}`;
  kit.add(
    'size',
    `${maxPoints + 1} valid readings`,
    kit.post(rawArray(Array.from({ length: maxPoints + 1 }, tiny))),
    tooMany,
  );
  kit.add(
    'size',
    `${maxPoints + 1} invalid readings`,
    kit.post(rawArray(Array.from({ length: maxPoints + 1 }, () => '{}'))),
    tooMany,
  );
  kit.add('size', '50,000 empty objects', kit.post(rawArray(Array.from({ length: 50_000 }, () => '{}'))), tooMany);
  kit.add(
    'size',
    `${maxPoints} readings, all missing value`,
    kit.post(rawArray(Array.from({ length: maxPoints }, () => `{"sensorId":${J(kit.ghost())},"metric":"m"}`))),
    readingsError(Array.from({ length: maxPoints }, (_, i) => i)),
  );
  // edges that are valid (controls): exactly MAX_BODY_BYTES, exactly MAX_POINTS_PER_REQUEST
  const sid = kit.okId();
  kit.add(
    'size',
    'control: one reading padded to exactly MAX_BODY_BYTES',
    kit.post(padded(rawArray([`{"sensorId":"${sid}","metric":"m","value":7}`]), maxBodyBytes)),
    { status: [202], accepted: 1, stored: { sensorId: sid, value: 7 } },
  );
  const many = kit.okId();
  const exactlyMax = Array.from(
    { length: maxPoints },
    (_, i) => `{"sensorId":"${many}","metric":"m","value":${i},"ts":${kit.now - DAY - i}}`,
  );
  kit.add('size', `control: exactly ${maxPoints} readings`, kit.post(rawArray(exactlyMax)), {
    status: [202],
    accepted: maxPoints,
  });
}
