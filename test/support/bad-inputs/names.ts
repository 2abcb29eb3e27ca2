// Attack family "names": sensor ids, metric names and tag keys with characters outside the name set, or too long.
import { readingsError, type CorpusKit } from './kit.js';
import { J, rawArray, rawObject } from './raw-json.js';
import { MAX_METRIC, MAX_SENSOR_ID, MAX_TAG_KEY_LENGTH, NAME_CHARS } from './rules.js';

/** Characters outside the name set that a name must not contain, by kind (all of them valid in JSON strings). */
export const BAD_CHARS: Record<string, string[]> = {
  emoji: ['😀', '🔥', '👩‍💻', '🇫🇷', '\u2764\uFE0F'],
  combining: ['e\u0301', 'a\u0308', 'n\u0303', '\u0301'],
  rtl: ['\u202E', '\u200F', 'שלום', 'مرحبا', '\u202Bx\u202C'],
  nul: ['\u0000'],
  control: ['\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001B', '\u001F', '\u007F', '\u0085'],
  invisible: ['\u200B', '\uFEFF', '\u00A0', '\u2060', '\u00AD'],
  lookalike: ['а', 'Ａ', 'ℓ', 'ﬁ', 'ǅ', 'İ'],
  surrogate: ['\uD800', '\uDFFF'],
  ascii: [...' /\\"\'%${}#@+=?&<>*,;!~|`^([]'],
};
const BAD_KINDS = Object.keys(BAD_CHARS);

/** How many random names of each kind (sensorId, metric, tag key) the corpus sends. */
const FUZZED_PER_FIELD = 160;

/** A random invalid name for a field of at most `max` characters, and why it is invalid. */
export function fuzzName(kit: CorpusKit, max: number): { name: string; why: string } {
  const roll = kit.random();
  if (roll < 0.12)
    return { name: NAME_CHARS[kit.int(0, NAME_CHARS.length - 1)].repeat(max + kit.int(1, 3)), why: `${max}+ chars` };
  const kind = kit.pick(BAD_KINDS);
  const badChar = kit.pick(BAD_CHARS[kind]);
  const base = kit.validName(max - 2);
  const pos = kit.int(0, base.length);
  let name = base.slice(0, pos) + badChar + base.slice(pos);
  if (roll < 0.2) name = badChar; // the bad character alone
  return { name, why: kind };
}

export function addNameCases(kit: CorpusKit): void {
  for (let i = 0; i < FUZZED_PER_FIELD; i++) {
    const { name, why } = fuzzName(kit, MAX_SENSOR_ID);
    const raw = rawObject(kit.withField('unused', 'sensorId', J(name)));
    kit.add(
      'names',
      `sensorId with ${why} ${J(name).slice(0, 40)}`,
      kit.post(raw),
      readingsError([0], [[0, 'sensorId']]),
    );
  }
  for (let i = 0; i < FUZZED_PER_FIELD; i++) {
    const { name, why } = fuzzName(kit, MAX_METRIC);
    const raw = rawObject(kit.withField(kit.ghost(), 'metric', J(name)));
    kit.add('names', `metric with ${why} ${J(name).slice(0, 40)}`, kit.post(raw), readingsError([0], [[0, 'metric']]));
  }
  for (let i = 0; i < FUZZED_PER_FIELD; i++) {
    const { name, why } = fuzzName(kit, MAX_TAG_KEY_LENGTH);
    const tags = rawObject([
      ['site', '"a"'],
      [name, J('v')],
    ]);
    // half alone, half at a random index of an array
    if (i % 2 === 0) {
      kit.add(
        'names',
        `tag key with ${why} ${J(name).slice(0, 40)}`,
        kit.post(rawObject(kit.withField(kit.ghost(), 'tags', tags))),
        readingsError([0], [[0, 'tags']]),
      );
    } else {
      const len = kit.int(2, 8);
      const at = kit.int(0, len - 1);
      const items = Array.from({ length: len }, (_, k) =>
        k === at ? rawObject(kit.withField(kit.ghost(), 'tags', tags)) : kit.validReading(kit.ghost()),
      );
      kit.add(
        'names',
        `tag key with ${why} at ${at} ${J(name).slice(0, 40)}`,
        kit.post(rawArray(items)),
        readingsError([at], [[at, 'tags']]),
      );
    }
  }
}
