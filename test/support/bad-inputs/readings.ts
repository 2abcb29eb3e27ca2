// Attack families "field types and lengths" and "mixed arrays": invalid readings alone, inside arrays, and mixed.
import { readingsError, type CorpusKit } from './kit.js';
import { DAY, HOUR, J, MINUTE, rawArray, rawObject } from './raw-json.js';
import { MAX_METRIC, MAX_READING_ID, MAX_SENSOR_ID, MAX_TAG_KEY_LENGTH, MAX_TAGS } from './rules.js';
import type { BadReading } from './types.js';

/** A field's bad value: a label and the raw JSON (undefined: the field is left out). */
type BadValue = [label: string, raw: string | undefined];

/** `value` that is not a finite number. */
const BAD_VALUES: BadValue[] = [
  ['missing', undefined],
  ['numeric string', '"1"'],
  ['decimal string', '"21.5"'],
  ['exponent string', '"1e3"'],
  ['"NaN" string', '"NaN"'],
  ['"Infinity" string', '"Infinity"'],
  ['empty string', '""'],
  ['padded numeric string', '" 1"'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  ['empty array', '[]'],
  ['array of a number', '[1]'],
  ['empty object', '{}'],
  ['object', '{"v":1}'],
  ['1e999 (overflows to Infinity)', '1e999'],
  ['-1e999 (overflows to -Infinity)', '-1e999'],
  ['1E400', '1E400'],
  ['-1E+999', '-1E+999'],
];

/** `ts` that is not a date, not ISO-8601 with a zone, out of range, or not integer ms. */
const badTimestamps = (now: number, maxFutureSkewMs: number): BadValue[] => {
  const future = (ms: number) => J(new Date(now + ms).toISOString());
  return [
    ['not a date', '"yesterday"'],
    ['empty string', '""'],
    ['blank string', '" "'],
    ['date only', '"2026-11-28"'],
    ['without zone', '"2026-11-28T04:00:00"'],
    ['without zone, minutes only', '"2026-11-28T04:00"'],
    ['without zone, fractional', '"2026-11-28T04:00:00.123"'],
    ['RFC 2822', '"Sat, 28 Nov 2026 04:00:00 GMT"'],
    ['Date#toString', '"Sat Nov 28 2026 04:00:00 GMT+0000 (Coordinated Universal Time)"'],
    ['February 30th', '"2026-02-30T00:00:00Z"'],
    ['February 29th of a common year', '"2025-02-29T12:00:00Z"'],
    ['April 31st', '"2026-04-31T00:00:00Z"'],
    ['month 13', '"2026-13-01T00:00:00Z"'],
    ['month 00', '"2026-00-10T00:00:00Z"'],
    ['day 00', '"2026-11-00T00:00:00Z"'],
    ['hour 25', '"2026-11-28T25:00:00Z"'],
    ['minute 60', '"2026-11-28T04:60:00Z"'],
    ['zone +25:00', '"2026-11-28T04:00:00+25:00"'],
    ['zone +99:99', '"2026-11-28T04:00:00+99:99"'],
    ['before 1970 (ISO)', '"1969-12-31T23:59:59Z"'],
    ['before 1970 (year 1900)', '"1900-01-01T00:00:00Z"'],
    ['before 1970 (year 0001)', '"0001-01-01T00:00:00Z"'],
    ['before 1970 (-1 ms)', '-1'],
    ['before 1970 (-1e12 ms)', '-1000000000000'],
    ['after 2038 (2038-01-19T03:14:08Z)', '"2038-01-19T03:14:08Z"'],
    ['after 2038 (2100)', '"2100-01-01T00:00:00Z"'],
    ['after 2038 (9999)', '"9999-12-31T23:59:59Z"'],
    ['after 2038 (epoch ms 2^31 s)', J(2 ** 31 * 1000)],
    ['too far in the future (+10 min, ISO)', future(10 * MINUTE)],
    ['too far in the future (+1 h, epoch ms)', J(now + HOUR)],
    ['too far in the future (skew + 60 s)', J(now + maxFutureSkewMs + MINUTE)],
    ['non-integer epoch ms', J(now - DAY + 0.5)],
    ['fractional epoch ms 1.5', '1.5'],
    ['epoch ms 0.1', '0.1'],
    ['huge number 1e20', '1e20'],
    ['2^53 (unsafe)', '9007199254740992'],
    ['2^53 + 1 (unsafe)', '9007199254740993'],
    ['1e999', '1e999'],
    ['-1e999', '-1e999'],
    ['epoch ms as a string', J(String(now - DAY))],
    ['epoch seconds as a string', J(String(Math.floor((now - DAY) / 1000)))],
    ['true', 'true'],
    ['null', 'null'],
    ['empty array', '[]'],
    ['array of a valid ts', J([now - DAY])],
    ['object', J({ $date: now - DAY })],
  ];
};

/** A name field (sensorId, metric) missing, empty, too long or not a string. */
const badNames = (max: number): BadValue[] => [
  ['missing', undefined],
  ['empty', '""'],
  [`${max + 1} characters`, J('s'.repeat(max + 1))],
  [`${max * 4} characters`, J('s'.repeat(max * 4))],
  ['a number', '7'],
  ['true', 'true'],
  ['null', 'null'],
  ['an array', J(['a'])],
  ['an object', J({ id: 'a' })],
];

/** `n` well-formed tags. */
export const manyTags = (n: number): string =>
  J(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])));

/** `tags` that is not an object of at most MAX_TAGS string -> string pairs with good keys. */
const BAD_TAGS: BadValue[] = [
  ['null', 'null'],
  ['an array', J(['site', 'plant-a'])],
  ['an array of pairs', J([['site', 'plant-a']])],
  ['a string', '"site=plant-a"'],
  ['a number', '5'],
  ['true', 'true'],
  [`${MAX_TAGS + 1} tags`, manyTags(MAX_TAGS + 1)],
  ['100 tags', manyTags(100)],
  ['a number value', J({ site: 1 })],
  ['a boolean value', J({ site: true })],
  ['a null value', J({ site: null })],
  ['an array value', J({ site: ['a'] })],
  ['an object value', J({ site: { x: 'y' } })],
  ['an empty key', J({ '': 'v' })],
  [`a ${MAX_TAG_KEY_LENGTH + 1}-character key`, J({ ['k'.repeat(MAX_TAG_KEY_LENGTH + 1)]: 'v' })],
  ['a key with a space', J({ 'a b': 'v' })],
  ['a "constructor" key', J({ constructor: 'x' })],
  ['a "prototype" key', J({ prototype: 'x' })],
  ['a "constructor" key among good ones', J({ site: 'a', constructor: 'x', floor: '2' })],
];

/** `id` (optional) that is not 1-MAX_READING_ID characters of the name set. */
const BAD_IDS: BadValue[] = [
  ['empty', '""'],
  [`${MAX_READING_ID + 1} characters`, J('i'.repeat(MAX_READING_ID + 1))],
  ['with a space', '"a b"'],
  ['non-ASCII', '"é"'],
  ['an emoji', '"😀"'],
  ['a NUL', J('a\u0000b')],
  ['a slash', '"a/b"'],
  ['a number', '5'],
  ['true', 'true'],
  ['null', 'null'],
  ['an array', '["a"]'],
  ['an object', '{}'],
];

/** Keys no reading may carry: near misses of real fields, odd strings, names Object.prototype and MongoDB give. */
const UNKNOWN_FIELDS = [
  'extra',
  'Value',
  'VALUE',
  'sensor_id',
  'timestamp',
  'tag',
  '',
  ' ',
  'value ',
  '\u0000',
  '😀',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  '$where',
  '$set',
  'meta',
  '_id',
];

/** Array elements that are not a reading object at all. */
const NOT_OBJECTS = ['null', '5', '"reading"', 'true', 'false', '[]', '[{}]', J(['sensorId', 'a'])];

/** Duplicate keys whose last occurrence is invalid (JSON.parse: the last one wins), given a ghost id. */
const lastDuplicateInvalid = (now: number): [label: string, make: (sid: string) => string, field: string][] => [
  ['duplicate value, last one a string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"value":"x"}`, 'value'],
  [
    'duplicate ts, last one negative',
    (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"ts":${now - DAY},"ts":-1}`,
    'ts',
  ],
  [
    'duplicate sensorId, last one invalid',
    (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"sensorId":"bad id"}`,
    'sensorId',
  ],
  [
    'duplicate tags, last one null',
    (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"a":"b"},"tags":null}`,
    'tags',
  ],
  [
    'duplicate tag key, last value a number',
    (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"a":"b","a":1}}`,
    'tags',
  ],
];

/** Every invalid reading of the catalog, each generating fresh ghost ids when written. */
export function badReadings(kit: CorpusKit): BadReading[] {
  const bad: BadReading[] = [];
  const badField = (key: string, [label, raw]: BadValue) =>
    bad.push({ label: `${key} ${label}`, raw: () => rawObject(kit.withField(kit.ghost(), key, raw)), fields: [key] });

  for (const v of BAD_VALUES) badField('value', v);
  for (const v of badTimestamps(kit.now, kit.opts.maxFutureSkewMs)) badField('ts', v);
  // the bad value replaces the ghost id: nothing to store under any id
  for (const [label, raw] of badNames(MAX_SENSOR_ID)) {
    bad.push({
      label: `sensorId ${label}`,
      raw: () => rawObject(kit.withField('unused', 'sensorId', raw)),
      fields: ['sensorId'],
    });
  }
  for (const v of badNames(MAX_METRIC)) badField('metric', v);
  for (const v of BAD_TAGS) badField('tags', v);
  for (const v of BAD_IDS) badField('id', v);
  for (const key of UNKNOWN_FIELDS) {
    bad.push({
      label: `unknown field ${J(key)}`,
      raw: () =>
        rawObject([...kit.validEntries(kit.ghost()), [key, kit.pick(['1', '"x"', 'null', '{}', '[]', 'true'])]]),
      fields: [key],
    });
  }
  for (const raw of NOT_OBJECTS) bad.push({ label: `element ${raw}`, raw: () => raw, fields: [] });
  // empty object: every required field named
  bad.push({ label: 'empty object', raw: () => '{}', fields: ['sensorId', 'metric', 'value'] });
  for (const [label, make, field] of lastDuplicateInvalid(kit.now)) {
    bad.push({ label, raw: () => make(kit.ghost()), fields: [field] });
  }
  return bad;
}

const fieldsAt = (b: BadReading, at: number): [number, string][] => b.fields.map((f) => [at, f]);

/** Every invalid reading alone, and at a random place in an array of valid ones. */
export function addReadingCases(kit: CorpusKit, bad: BadReading[]): void {
  for (const b of bad) {
    const single = b.raw();
    // a scalar/array body is a body-level problem when sent alone; covered by the "body" family
    if (single.startsWith('{')) {
      kit.add('readings', `single: ${b.label}`, kit.post(single), readingsError([0], fieldsAt(b, 0)));
    }
    const len = kit.int(2, 12);
    const at = kit.int(0, len - 1);
    const items = Array.from({ length: len }, (_, i) => (i === at ? b.raw() : kit.validReading(kit.ghost())));
    kit.add(
      'readings',
      `in array of ${len} at ${at}: ${b.label}`,
      kit.post(rawArray(items)),
      readingsError([at], fieldsAt(b, at)),
    );
  }
}

/** How many random arrays mixing valid and invalid readings the corpus sends. */
const MIXED_ARRAYS = 600;

/** Random lengths, random invalid positions: exactly those indexes must be listed. */
export function addMixedArrays(kit: CorpusKit, bad: BadReading[]): void {
  for (let i = 0; i < MIXED_ARRAYS; i++) {
    const r = kit.random();
    const len = r < 0.7 ? kit.int(2, 20) : r < 0.95 ? kit.int(21, 200) : kit.int(201, 2000);
    const p = 0.02 + kit.random() * 0.5;
    const invalid: number[] = [];
    const fields: [number, string][] = [];
    const items: string[] = [];
    const kinds = new Set<string>();
    const putBad = (k: number) => {
      const b = kit.pick(bad);
      items[k] = b.raw();
      invalid.push(k);
      kinds.add(b.label);
      fields.push(...fieldsAt(b, k));
    };
    for (let k = 0; k < len; k++) {
      if (kit.random() < p) putBad(k);
      else items.push(kit.validReading(kit.ghost()));
    }
    if (invalid.length === 0) putBad(kit.int(0, len - 1));
    const what = [...kinds].sort();
    kit.add(
      'mixed',
      `array of ${len}, ${invalid.length} invalid (${what.length} kinds: ${what.join(' | ')})`,
      kit.post(rawArray(items)),
      readingsError(invalid, fields),
    );
  }
}
