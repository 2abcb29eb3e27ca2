// Attack family "headers": content types other than JSON, malformed Idempotency-Key values, and their controls.
import { HEADER_ID_PATTERN } from '@funnel/contracts';

import { bodyError, readingsError, type CorpusKit } from './kit.js';
import { J, JSON_CT, NAMES_MEDIA_TYPE, rawArray } from './raw-json.js';
import { MAX_IDEMPOTENCY_KEY, MAX_READING_ID } from './rules.js';

/** Content types POST /v1/points answers 415 to, whatever the body. */
const CONTENT_TYPES = [
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=----funnel',
  'application/xml',
  'text/xml',
  'text/html',
  'text/csv',
  'application/octet-stream',
  'application/javascript',
  'application/jsonp',
  'application/json-seq',
  'application/x-ndjson',
  'image/png',
];

/** Idempotency-Key values that are not 1-MAX printable ASCII characters. */
const BAD_KEYS: [string, string][] = [
  ['empty Idempotency-Key', ''],
  [`${MAX_IDEMPOTENCY_KEY + 1}-character Idempotency-Key`, 'k'.repeat(MAX_IDEMPOTENCY_KEY + 1)],
  ['1,000-character Idempotency-Key', 'k'.repeat(1000)],
  ['Idempotency-Key with a Latin-1 character', 'clé-1'],
  ['Idempotency-Key with a tab inside', 'a\tb'],
];

/** Bodies sent under a wrong content type: valid JSON among them, so only the type can be the reason. */
function bodiesFor(kit: CorpusKit, ct: string): [string, Buffer][] {
  const id = kit.ghost();
  const json = kit.validReading(id);
  const multipart = `------funnel\r\nContent-Disposition: form-data; name="point"\r\nContent-Type: application/json\r\n\r\n${json}\r\n------funnel--\r\n`;
  return [
    ['a valid JSON reading', Buffer.from(json)],
    ['a valid JSON array', Buffer.from(rawArray([kit.validReading(kit.ghost()), kit.validReading(kit.ghost())]))],
    ['form fields', Buffer.from(`sensorId=${id}&metric=m&value=1`)],
    ['XML', Buffer.from(`<?xml version="1.0"?><point><sensorId>${id}</sensorId><value>1</value></point>`)],
    ...(ct.startsWith('multipart')
      ? ([['a multipart form with a JSON part', Buffer.from(multipart)]] as [string, Buffer][])
      : []),
    ['binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff])],
  ];
}

export function addContentTypeCases(kit: CorpusKit): void {
  const refused = bodyError([415], NAMES_MEDIA_TYPE);
  for (const ct of CONTENT_TYPES) {
    for (const [label, body] of bodiesFor(kit, ct)) {
      kit.add('content-type', `${ct} with ${label}`, kit.post(body, { 'content-type': ct }), refused);
    }
    kit.add('content-type', `${ct} with an empty body`, kit.post(Buffer.alloc(0), { 'content-type': ct }), refused);
  }
  // no content-type header at all, with a body
  for (const [label, body] of bodiesFor(kit, '')) {
    kit.add('content-type', `no content type with ${label}`, kit.post(body, {}), refused);
  }
}

/** Idempotency-Key header (HEADER_ID_PATTERN) and reading ids at their limit. */
export function addIdempotencyKeyCases(kit: CorpusKit): void {
  const withKey = (key: string, body = kit.validReading(kit.ghost())) =>
    kit.post(body, { ...JSON_CT, 'idempotency-key': key });
  const keyError = bodyError([400], /idempotency-key/i);
  for (const [label, key] of BAD_KEYS) kit.add('idempotency-key', label, withKey(key), keyError);
  kit.add(
    'idempotency-key',
    `Idempotency-Key of ${MAX_IDEMPOTENCY_KEY + 1} characters, invalid body`,
    withKey('k'.repeat(MAX_IDEMPOTENCY_KEY + 1), '{"sensorId":1}'),
    { status: [400] },
  );
  kit.add(
    'idempotency-key',
    'valid Idempotency-Key, invalid reading 1 of 2',
    withKey(`key-${kit.int(0, 1e9)}`, rawArray([kit.validReading(kit.ghost()), '{"metric":"m","value":1}'])),
    readingsError([1], [[1, 'sensorId']]),
  );
  // controls: the longest key, every character HEADER_ID_PATTERN allows but the letters, an ordinary one
  const printable = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i))
    .filter((ch) => HEADER_ID_PATTERN.test(ch) && !/[A-Za-z]/.test(ch))
    .join('');
  for (const key of ['k'.repeat(MAX_IDEMPOTENCY_KEY), printable, `retry-${kit.int(0, 1e9)}`]) {
    const sid = kit.okId();
    kit.add(
      'idempotency-key',
      `control: Idempotency-Key ${J(key.slice(0, 30))} (${key.length} chars)`,
      withKey(key, `{"sensorId":"${sid}","metric":"m","value":3}`),
      { status: [202], accepted: 1 },
    );
  }
  // "printable ASCII" may or may not include the space (0x20): HEADER_ID_PATTERN decides which answer is documented
  {
    const sid = kit.okId();
    kit.add(
      'idempotency-key',
      'Idempotency-Key with an inner space',
      withKey('a b', `{"sensorId":"${sid}","metric":"m","value":3}`),
      { status: [HEADER_ID_PATTERN.test('a b') ? 202 : 400] },
    );
  }
  const sid = kit.okId();
  const longestId = `${'i'.repeat(MAX_READING_ID - 8)}${kit.int(10_000_000, 99_999_999)}`;
  kit.add(
    'reading-id',
    `control: id of ${MAX_READING_ID} characters`,
    kit.post(`{"id":"${longestId}","sensorId":"${sid}","metric":"m","value":5}`),
    { status: [202], accepted: 1, stored: { sensorId: sid, value: 5 } },
  );
}

/** Authorization headers that carry no usable token: each is a 401 that stores nothing, whatever the body. */
const BAD_AUTHORIZATION: [string, string][] = [
  ['empty Authorization header', ''],
  ['Authorization scheme without a token', 'Bearer'],
  ['Basic credentials', 'Basic dXNlcjpwYXNz'],
  ['a 4,000-character unknown bearer token', `Bearer ${'t'.repeat(4000)}`],
  ['a bearer token with a Latin-1 character', 'Bearer fnl_caf\u00e9'],
  ['two bearer tokens in one header', 'Bearer a-token, Bearer another-token'],
  ['an unknown token of the Funnel format', `Bearer fnl_0123456789ab_${'x'.repeat(43)}`],
];

export function addAuthorizationCases(kit: CorpusKit): void {
  const refused = bodyError([401], /token|authorization/i);
  for (const [label, value] of BAD_AUTHORIZATION) {
    kit.add(
      'authorization',
      label,
      kit.post(kit.validReading(kit.ghost()), { ...JSON_CT, authorization: value }),
      refused,
    );
  }
}
