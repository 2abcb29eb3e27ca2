/**
 * The bad-input corpus: thousands of requests to POST /v1/points and GET /v1/aggregates, generated from a seeded
 * PRNG (same seed, same corpus; only timestamps relative to `now` move with the clock), each with the answer the
 * README documents for it.
 *
 * Bodies are built as raw JSON text (not JSON.stringify of an object) so the corpus can hold what JSON.parse never
 * produces: duplicate keys, raw NaN/Infinity/1e999 tokens, truncated documents, invalid UTF-8.
 *
 * Sensor ids: readings in requests that must be rejected use `GHOST_PREFIX` ids, readings in requests that may be
 * accepted use `OK_PREFIX` ids, so the test can check afterwards that no ghost reading was ever stored.
 */
import { prng } from './dataset.js';
import type { RawRequest } from './raw-http.js';

export const GHOST_PREFIX = 'ghost-';
export const OK_PREFIX = 'ok-';

export type BadRequest = RawRequest;

export interface Expected {
  /** Statuses the README allows for this request; the first one is "the" documented answer (summary). */
  status: number[];
  /** Reading-level 400: `errors` must list exactly these indexes (each with a field and a reason). */
  invalid?: number[];
  /** (index, field) pairs that must be among `errors`. */
  fields?: [number, string][];
  /**
   * The request may also be refused as a whole (the JSON parser refuses it) instead of reading by reading: then
   * `errors` may be absent/empty, but the message must match this. When `errors` is listed, `invalid` applies.
   */
  orBodyLevel?: RegExp;
  /** The message must match this (names the parameter or problem). */
  message?: RegExp;
  /** For a 202: the `accepted` count. */
  accepted?: number;
  /** For a 202: a reading that must be stored with exactly this value (duplicate keys: the last one wins). */
  stored?: { sensorId: string; value: number };
}

export interface BadCase {
  id: number;
  group: string;
  label: string;
  req: BadRequest;
  expect: Expected;
}

export interface CorpusOptions {
  seed: number;
  /** Epoch ms the corpus is built at (timestamps "in the future" are relative to it). */
  now: number;
  maxBodyBytes: number;
  maxPoints: number;
  maxBuckets: number;
  maxFutureSkewMs: number;
}

// ---------------------------------------------------------------------------------------------------------
// Raw JSON helpers

type Entry = [key: string, raw: string];

const J = (v: unknown): string => JSON.stringify(v);
const rawObject = (entries: Entry[]): string => `{${entries.map(([k, v]) => `${J(k)}:${v}`).join(',')}}`;
const rawArray = (items: string[]): string => `[${items.join(',')}]`;
const JSON_CT = { 'content-type': 'application/json' };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Messages that name the problem of a request refused as a whole.
const NAMES_JSON = /json|body|pars/i;
const NAMES_MEDIA_TYPE = /media type|content[- ]type|json/i;
const NAMES_SIZE = /large|limit|MAX_BODY_BYTES|MAX_POINTS_PER_REQUEST|bytes/i;
const NAMES_PROTO = /proto|constructor|forbidden|not allowed/i;

/** Characters outside [A-Za-z0-9._:-] that a name must not contain, by kind (all of them valid in JSON strings). */
const BAD_CHARS: Record<string, string[]> = {
  emoji: ['😀', '🔥', '👩‍💻', '🇫🇷', '\u2764\uFE0F'],
  combining: ['e\u0301', 'a\u0308', 'n\u0303', '\u0301'],
  rtl: ['\u202E', '\u200F', 'שלום', 'مرحبا', '\u202Bx\u202C'],
  nul: ['\u0000'],
  control: ['\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001B', '\u001F', '\u007F', '\u0085'],
  invisible: ['\u200B', '\uFEFF', '\u00A0', '\u2060', '\u00AD'],
  lookalike: ['а', 'Ａ', 'ℓ', 'ﬁ', 'ǅ', 'İ'],
  surrogate: ['\uD800', '\uDFFF'],
  ascii: [
    ' ',
    '/',
    '\\',
    '"',
    "'",
    '%',
    '$',
    '{',
    '}',
    '#',
    '@',
    '+',
    '=',
    '?',
    '&',
    '<',
    '>',
    '*',
    ',',
    ';',
    '!',
    '~',
    '|',
    '`',
    '^',
    '(',
    '[',
    ']',
  ],
};
const BAD_KINDS = Object.keys(BAD_CHARS);
const NAME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-';

/** Builds every case of the corpus, in a fixed order for a given seed. */
export function buildCorpus(opts: CorpusOptions): BadCase[] {
  const rand = prng(opts.seed);
  const int = (min: number, max: number) => min + Math.floor(rand() * (max - min + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)];
  const { now } = opts;

  let ghosts = 0;
  let oks = 0;
  const ghost = () => `${GHOST_PREFIX}${++ghosts}`;
  const okId = () => `${OK_PREFIX}${++oks}`;

  const cases: BadCase[] = [];
  const add = (group: string, label: string, req: BadRequest, expect: Expected) =>
    cases.push({ id: cases.length + 1, group, label, req, expect });
  const post = (body: string | Buffer | { chunked: Buffer }, headers: Record<string, string> = JSON_CT): BadRequest =>
    typeof body === 'string' || Buffer.isBuffer(body)
      ? {
          method: 'POST',
          path: '/v1/points',
          headers,
          body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
        }
      : { method: 'POST', path: '/v1/points', headers, body: body.chunked, chunked: true };
  const readingsError = (invalid: number[], fields: [number, string][] = []): Expected => ({
    status: [400],
    invalid,
    fields,
  });
  const bodyError = (status: number[], message: RegExp): Expected => ({ status, message });

  // -------------------------------------------------------------------------------------------------------
  // Valid readings (as raw entries) and the catalog of invalid ones

  const pastTs = () => now - int(1, 30 * DAY);
  const validTsRaw = (): string | undefined => {
    switch (int(0, 4)) {
      case 0:
        return undefined;
      case 1:
        return J(pastTs());
      case 2:
        return J(new Date(pastTs()).toISOString());
      case 3:
        return J(new Date(pastTs()).toISOString().replace('Z', '+00:00'));
      default: {
        // same instant, written in +05:30
        const t = pastTs();
        return J(new Date(t + 5.5 * HOUR).toISOString().replace(/\.\d{3}Z$/, '+05:30'));
      }
    }
  };
  const validValueRaw = () =>
    pick(['0', '-0', '21.5', '-40.25', '1e3', '1E-7', '1.7976931348623157e308', '5e-324', J(int(-1e6, 1e6) / 100)]);
  const validName = (max: number) =>
    Array.from({ length: int(1, Math.min(max, 24)) }, () => NAME_CHARS[int(0, NAME_CHARS.length - 1)]).join('');

  /** A valid reading as raw entries, with every optional field sometimes present. */
  const validEntries = (sensorId: string): Entry[] => {
    const entries: Entry[] = [
      ['sensorId', J(sensorId)],
      ['metric', J(pick(['temperature', 'pressure', 'rpm', 'm', validName(64)]))],
      ['value', validValueRaw()],
    ];
    const ts = validTsRaw();
    if (ts !== undefined) entries.push(['ts', ts]);
    const tagRoll = rand();
    if (tagRoll < 0.3) entries.push(['tags', J({ site: 'plant-a', [validName(64)]: 'ünïcødé ✓ values are fine' })]);
    else if (tagRoll < 0.4) entries.push(['tags', J({})]);
    if (rand() < 0.15) entries.push(['id', J(`${sensorId}:${int(0, 1e9)}`)]);
    // entries are shuffled: key order does not matter
    return entries.sort(() => rand() - 0.5);
  };
  const validReading = (sensorId: string) => rawObject(validEntries(sensorId));
  /** Entries of a valid reading with `key` replaced by (or, if raw is undefined, without) the given raw value. */
  const withField = (sensorId: string, key: string, raw: string | undefined): Entry[] => {
    const entries = validEntries(sensorId).filter(([k]) => k !== key);
    if (raw !== undefined) entries.push([key, raw]);
    return entries;
  };

  /** An invalid reading: raw text + the fields the app must name. Ghost ids only. */
  interface BadReading {
    label: string;
    raw: () => string;
    fields: string[];
  }
  const bad: BadReading[] = [];
  const badField = (key: string, label: string, raw: string | undefined, field = key) =>
    bad.push({ label: `${key} ${label}`, raw: () => rawObject(withField(ghost(), key, raw)), fields: [field] });

  // value: not a finite number
  for (const [label, raw] of [
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
  ] as [string, string | undefined][]) {
    badField('value', label, raw);
  }

  // ts: not a date, not ISO-8601 with a zone, out of range, not integer ms
  const future = (ms: number) => J(new Date(now + ms).toISOString());
  for (const [label, raw] of [
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
    ['too far in the future (skew + 60 s)', J(now + opts.maxFutureSkewMs + MINUTE)],
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
  ] as [string, string][]) {
    badField('ts', label, raw);
  }

  // sensorId / metric: missing, empty, too long, not a string
  for (const key of ['sensorId', 'metric']) {
    const max = key === 'sensorId' ? 128 : 64;
    for (const [label, raw] of [
      ['missing', undefined],
      ['empty', '""'],
      [`${max + 1} characters`, J('s'.repeat(max + 1))],
      [`${max * 4} characters`, J('s'.repeat(max * 4))],
      ['a number', '7'],
      ['true', 'true'],
      ['null', 'null'],
      ['an array', J(['a'])],
      ['an object', J({ id: 'a' })],
    ] as [string, string | undefined][]) {
      if (key === 'sensorId') {
        // the bad value replaces the ghost id: nothing to store under any id
        bad.push({
          label: `sensorId ${label}`,
          raw: () => rawObject(withField('unused', 'sensorId', raw)),
          fields: ['sensorId'],
        });
      } else {
        badField(key, label, raw);
      }
    }
  }

  // tags: not an object of at most 16 string -> string pairs with good keys
  const manyTags = (n: number) => J(Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`])));
  for (const [label, raw] of [
    ['null', 'null'],
    ['an array', J(['site', 'plant-a'])],
    ['an array of pairs', J([['site', 'plant-a']])],
    ['a string', '"site=plant-a"'],
    ['a number', '5'],
    ['true', 'true'],
    ['17 tags', manyTags(17)],
    ['100 tags', manyTags(100)],
    ['a number value', J({ site: 1 })],
    ['a boolean value', J({ site: true })],
    ['a null value', J({ site: null })],
    ['an array value', J({ site: ['a'] })],
    ['an object value', J({ site: { x: 'y' } })],
    ['an empty key', J({ '': 'v' })],
    ['a 65-character key', J({ ['k'.repeat(65)]: 'v' })],
    ['a key with a space', J({ 'a b': 'v' })],
    ['a "constructor" key', J({ constructor: 'x' })],
    ['a "prototype" key', J({ prototype: 'x' })],
    ['a "constructor" key among good ones', J({ site: 'a', constructor: 'x', floor: '2' })],
  ] as [string, string][]) {
    badField('tags', label, raw);
  }

  // id (optional string 1-128 of [A-Za-z0-9._:-])
  for (const [label, raw] of [
    ['empty', '""'],
    ['129 characters', J('i'.repeat(129))],
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
  ] as [string, string][]) {
    badField('id', label, raw);
  }

  // unknown fields (including names inherited from Object.prototype)
  for (const key of [
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
  ]) {
    bad.push({
      label: `unknown field ${J(key)}`,
      raw: () => rawObject([...validEntries(ghost()), [key, pick(['1', '"x"', 'null', '{}', '[]', 'true'])]]),
      fields: [key],
    });
  }

  // not an object at all
  for (const raw of ['null', '5', '"reading"', 'true', 'false', '[]', '[{}]', J(['sensorId', 'a'])]) {
    bad.push({ label: `element ${raw}`, raw: () => raw, fields: [] });
  }
  // empty object: every required field named
  bad.push({ label: 'empty object', raw: () => '{}', fields: ['sensorId', 'metric', 'value'] });

  // duplicate keys whose last occurrence is invalid (JSON.parse: the last one wins)
  bad.push({
    label: 'duplicate value, last one a string',
    raw: () => `{"sensorId":${J(ghost())},"metric":"m","value":1,"value":"x"}`,
    fields: ['value'],
  });
  bad.push({
    label: 'duplicate ts, last one negative',
    raw: () => `{"sensorId":${J(ghost())},"metric":"m","value":1,"ts":${now - DAY},"ts":-1}`,
    fields: ['ts'],
  });
  bad.push({
    label: 'duplicate sensorId, last one invalid',
    raw: () => `{"sensorId":${J(ghost())},"metric":"m","value":1,"sensorId":"bad id"}`,
    fields: ['sensorId'],
  });
  bad.push({
    label: 'duplicate tags, last one null',
    raw: () => `{"sensorId":${J(ghost())},"metric":"m","value":1,"tags":{"a":"b"},"tags":null}`,
    fields: ['tags'],
  });
  bad.push({
    label: 'duplicate tag key, last value a number',
    raw: () => `{"sensorId":${J(ghost())},"metric":"m","value":1,"tags":{"a":"b","a":1}}`,
    fields: ['tags'],
  });

  // -------------------------------------------------------------------------------------------------------
  // Reading-level: every invalid reading alone, and at a random place in an array of valid ones

  for (const b of bad) {
    const single = b.raw();
    const notObject = !single.startsWith('{');
    if (notObject) {
      // a scalar/array body is a body-level problem when sent alone; covered under "body" below
    } else {
      add(
        'readings',
        `single: ${b.label}`,
        post(single),
        readingsError(
          [0],
          b.fields.map((f) => [0, f]),
        ),
      );
    }
    const len = int(2, 12);
    const at = int(0, len - 1);
    const items = Array.from({ length: len }, (_, i) => (i === at ? b.raw() : validReading(ghost())));
    add(
      'readings',
      `in array of ${len} at ${at}: ${b.label}`,
      post(rawArray(items)),
      readingsError(
        [at],
        b.fields.map((f) => [at, f]),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Names: random sensorId / metric / tag keys with characters outside the set, or too long

  const fuzzName = (max: number): { name: string; why: string } => {
    const roll = rand();
    if (roll < 0.12)
      return { name: NAME_CHARS[int(0, NAME_CHARS.length - 1)].repeat(max + int(1, 3)), why: `${max}+ chars` };
    const kind = pick(BAD_KINDS);
    const badChar = pick(BAD_CHARS[kind]);
    const base = validName(max - 2);
    const pos = int(0, base.length);
    let name = base.slice(0, pos) + badChar + base.slice(pos);
    if (roll < 0.2) name = badChar; // the bad character alone
    return { name, why: kind };
  };
  for (let i = 0; i < 160; i++) {
    const { name, why } = fuzzName(128);
    const raw = rawObject(withField('unused', 'sensorId', J(name)));
    add('names', `sensorId with ${why} ${J(name).slice(0, 40)}`, post(raw), readingsError([0], [[0, 'sensorId']]));
  }
  for (let i = 0; i < 160; i++) {
    const { name, why } = fuzzName(64);
    const raw = rawObject(withField(ghost(), 'metric', J(name)));
    add('names', `metric with ${why} ${J(name).slice(0, 40)}`, post(raw), readingsError([0], [[0, 'metric']]));
  }
  for (let i = 0; i < 160; i++) {
    const { name, why } = fuzzName(64);
    const tags = rawObject([
      ['site', '"a"'],
      [name, J('v')],
    ]);
    // half alone, half at a random index of an array
    if (i % 2 === 0) {
      add(
        'names',
        `tag key with ${why} ${J(name).slice(0, 40)}`,
        post(rawObject(withField(ghost(), 'tags', tags))),
        readingsError([0], [[0, 'tags']]),
      );
    } else {
      const len = int(2, 8);
      const at = int(0, len - 1);
      const items = Array.from({ length: len }, (_, k) =>
        k === at ? rawObject(withField(ghost(), 'tags', tags)) : validReading(ghost()),
      );
      add(
        'names',
        `tag key with ${why} at ${at} ${J(name).slice(0, 40)}`,
        post(rawArray(items)),
        readingsError([at], [[at, 'tags']]),
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Mixed arrays: random lengths, random invalid positions; exactly those indexes must be listed

  const invalidInArrays = bad;
  for (let i = 0; i < 600; i++) {
    const r = rand();
    const len = r < 0.7 ? int(2, 20) : r < 0.95 ? int(21, 200) : int(201, 2000);
    const p = 0.02 + rand() * 0.5;
    const invalid: number[] = [];
    const fields: [number, string][] = [];
    const items: string[] = [];
    const kinds = new Set<string>();
    for (let k = 0; k < len; k++) {
      if (rand() < p) {
        const b = pick(invalidInArrays);
        items.push(b.raw());
        invalid.push(k);
        kinds.add(b.label);
        for (const f of b.fields) fields.push([k, f]);
      } else {
        items.push(validReading(ghost()));
      }
    }
    if (invalid.length === 0) {
      const k = int(0, len - 1);
      const b = pick(invalidInArrays);
      items[k] = b.raw();
      invalid.push(k);
      kinds.add(b.label);
      for (const f of b.fields) fields.push([k, f]);
    }
    const what = [...kinds].sort();
    add(
      'mixed',
      `array of ${len}, ${invalid.length} invalid (${what.length} kinds: ${what.join(' | ')})`,
      post(rawArray(items)),
      readingsError(invalid, fields),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Body level: not JSON, not a reading or array

  const notJson: [string, string][] = [
    ['raw NaN value', `{"sensorId":${J(ghost())},"metric":"m","value":NaN}`],
    ['raw Infinity value', `{"sensorId":${J(ghost())},"metric":"m","value":Infinity}`],
    ['raw -Infinity value', `{"sensorId":${J(ghost())},"metric":"m","value":-Infinity}`],
    ['raw NaN ts', `{"sensorId":${J(ghost())},"metric":"m","value":1,"ts":NaN}`],
    [
      'raw Infinity in the 3rd reading',
      rawArray([
        validReading(ghost()),
        validReading(ghost()),
        `{"sensorId":${J(ghost())},"metric":"m","value":Infinity}`,
      ]),
    ],
    ['raw undefined', `{"sensorId":${J(ghost())},"metric":"m","value":undefined}`],
    ['leading +', `{"sensorId":${J(ghost())},"metric":"m","value":+1}`],
    ['leading zero', `{"sensorId":${J(ghost())},"metric":"m","value":01}`],
    ['leading dot', `{"sensorId":${J(ghost())},"metric":"m","value":.5}`],
    ['trailing dot', `{"sensorId":${J(ghost())},"metric":"m","value":1.}`],
    ['hex number', `{"sensorId":${J(ghost())},"metric":"m","value":0x10}`],
    ['single quotes', `{'sensorId':'${ghost()}','metric':'m','value':1}`],
    ['unquoted keys', `{sensorId:${J(ghost())},metric:"m",value:1}`],
    ['trailing comma in object', `{"sensorId":${J(ghost())},"metric":"m","value":1,}`],
    ['trailing comma in array', `[${validReading(ghost())},]`],
    ['comment', `{"sensorId":${J(ghost())},/* c */"metric":"m","value":1}`],
    ['line comment', `{"sensorId":${J(ghost())},"metric":"m","value":1}// c`],
    ['raw tab in a string', `{"sensorId":"${ghost()}\tx","metric":"m","value":1}`],
    ['raw newline in a string', `{"sensorId":"${ghost()}\nx","metric":"m","value":1}`],
    ['raw NUL in a string', `{"sensorId":"${ghost()}\u0000x","metric":"m","value":1}`],
    ['bad escape', `{"sensorId":"${ghost()}\\x41","metric":"m","value":1}`],
    ['short unicode escape', `{"sensorId":"${ghost()}\\u12","metric":"m","value":1}`],
    ['two documents', `${validReading(ghost())}${validReading(ghost())}`],
    ['two documents, newline-delimited', `${validReading(ghost())}\n${validReading(ghost())}`],
    ['garbage after the document', `${rawArray([validReading(ghost())])} trailing`],
    ['plain text', 'hello'],
    ['XML', `<point><sensorId>${ghost()}</sensorId></point>`],
    ['form-urlencoded text', `sensorId=${ghost()}&metric=m&value=1`],
    ['whitespace only', ' \n\t '],
    ['unclosed string', '{"sensorId":"abc'],
    ['lone bracket', '['],
    ['lone brace', '{'],
    ['closing only', ']'],
    ['key without value', '{"sensorId"}'],
    ['colon without key', '{:1}'],
    ['BOM in the middle', `{"sensorId":${J(ghost())},\uFEFF"metric":"m","value":1}`],
  ];
  for (const [label, text] of notJson) {
    add('not-json', label, post(text), bodyError([400], NAMES_JSON));
  }
  // invalid UTF-8 inside a string: refused as a whole, or as that reading's sensorId
  for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]]) {
    const body = Buffer.concat([
      Buffer.from(`[${validReading(ghost())},{"sensorId":"${ghost()}`),
      Buffer.from(bytes),
      Buffer.from('","metric":"m","value":1}]'),
    ]);
    add('not-json', `invalid UTF-8 ${Buffer.from(bytes).toString('hex')} in sensorId of reading 1`, post(body), {
      status: [400],
      invalid: [1],
      fields: [[1, 'sensorId']],
      orBodyLevel: /json|utf|encod|body|pars/i,
    });
  }
  // JSON, but not a reading nor an array of readings
  for (const [label, text] of [
    ['a string', '"reading"'],
    ['a number', '42'],
    ['true', 'true'],
    ['false', 'false'],
    ['null', 'null'],
    ['empty array', '[]'],
    ['empty array with whitespace', ' [ ] '],
  ] as [string, string][]) {
    add('not-a-reading', `body is ${label}`, post(text), { status: [400] });
  }
  add(
    'not-a-reading',
    'body is an empty object',
    post('{}'),
    readingsError(
      [0],
      [
        [0, 'sensorId'],
        [0, 'metric'],
        [0, 'value'],
      ],
    ),
  );
  add('not-a-reading', 'body is [[]]', post('[[]]'), readingsError([0]));
  add('not-a-reading', 'body is [null]', post('[null]'), readingsError([0]));
  add(
    'not-a-reading',
    'body is [1,"a",null,[],true,{}]',
    post('[1,"a",null,[],true,{}]'),
    readingsError([0, 1, 2, 3, 4, 5]),
  );
  add(
    'not-a-reading',
    'body is an array of arrays of readings',
    post(rawArray([rawArray([validReading(ghost())]), validReading(ghost())])),
    readingsError([0]),
  );

  // empty bodies
  add('empty', 'empty body, application/json', post(Buffer.alloc(0)), bodyError([400], /empty|body|json/i));
  add(
    'empty',
    'empty body, application/json; charset=utf-8',
    post(Buffer.alloc(0), { 'content-type': 'application/json; charset=utf-8' }),
    bodyError([400], /empty|body|json/i),
  );
  // no content type and no body: nothing to parse; neither status is more documented than the other
  add('empty', 'empty body, no content type', post(Buffer.alloc(0), {}), { status: [400, 415] });

  // truncated JSON: valid bodies cut at every few bytes (multi-byte characters get split too)
  const toTruncate: string[] = [
    validReading(ghost()),
    rawObject([...validEntries(ghost()), ['tags', J({ site: 'Zürich ✓ 😀', floor: '2' })]]),
    rawObject([
      ['sensorId', J(ghost())],
      ['metric', '"temperature"'],
      ['value', '-21.5e-3'],
      ['ts', J(new Date(now - DAY).toISOString())],
      ['tags', J({ a: 'b', c: 'd' })],
    ]),
    rawArray([validReading(ghost()), validReading(ghost())]),
    rawArray([validReading(ghost()), validReading(ghost()), validReading(ghost()), validReading(ghost())]),
    `[\n  ${validReading(ghost())},\n  ${validReading(ghost())}\n]`,
    rawObject([
      ['sensorId', J(ghost())],
      ['metric', '"m"'],
      ['value', '1'],
      ['tags', manyTags(16)],
    ]),
    rawArray(Array.from({ length: 6 }, () => validReading(ghost()))),
  ];
  for (const [n, full] of toTruncate.entries()) {
    const bytes = Buffer.from(full, 'utf8');
    const step = n < 3 ? 1 : 3;
    for (let cut = 1; cut < bytes.length; cut += step) {
      const prefix = bytes.subarray(0, cut);
      if (/^\s*$/.test(prefix.toString('utf8'))) continue;
      add(
        'truncated',
        `body ${n} cut at byte ${cut}/${bytes.length}`,
        post(Buffer.from(prefix)),
        bodyError([400], NAMES_JSON),
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Content types other than JSON: 415 whatever the body

  const contentTypes = [
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
  const bodiesFor = (ct: string): [string, Buffer][] => {
    const id = ghost();
    const json = validReading(id);
    const multipart = `------funnel\r\nContent-Disposition: form-data; name="point"\r\nContent-Type: application/json\r\n\r\n${json}\r\n------funnel--\r\n`;
    return [
      ['a valid JSON reading', Buffer.from(json)],
      ['a valid JSON array', Buffer.from(rawArray([validReading(ghost()), validReading(ghost())]))],
      ['form fields', Buffer.from(`sensorId=${id}&metric=m&value=1`)],
      ['XML', Buffer.from(`<?xml version="1.0"?><point><sensorId>${id}</sensorId><value>1</value></point>`)],
      ...(ct.startsWith('multipart')
        ? ([['a multipart form with a JSON part', Buffer.from(multipart)]] as [string, Buffer][])
        : []),
      ['binary', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff])],
    ];
  };
  for (const ct of contentTypes) {
    for (const [label, body] of bodiesFor(ct)) {
      add(
        'content-type',
        `${ct} with ${label}`,
        post(body, { 'content-type': ct }),
        bodyError([415], NAMES_MEDIA_TYPE),
      );
    }
    add(
      'content-type',
      `${ct} with an empty body`,
      post(Buffer.alloc(0), { 'content-type': ct }),
      bodyError([415], NAMES_MEDIA_TYPE),
    );
  }
  // no content-type header at all, with a body
  for (const [label, body] of bodiesFor('')) {
    add('content-type', `no content type with ${label}`, post(body, {}), bodyError([415], NAMES_MEDIA_TYPE));
  }

  // -------------------------------------------------------------------------------------------------------
  // Size: over MAX_BODY_BYTES, over MAX_POINTS_PER_REQUEST, and the edges that must still pass

  const padded = (json: string, size: number) => {
    const buf = Buffer.alloc(size, 0x20);
    buf.write(json, 0, 'utf8');
    return buf;
  };
  const overSize = opts.maxBodyBytes + 1;
  add(
    'size',
    `valid reading padded to MAX_BODY_BYTES + 1 (${overSize} bytes)`,
    post(padded(rawArray([validReading(ghost())]), overSize)),
    bodyError([413], NAMES_SIZE),
  );
  add(
    'size',
    'valid reading padded to 6 MiB',
    post(padded(validReading(ghost()), 6 * 1024 * 1024)),
    bodyError([413], NAMES_SIZE),
  );
  add(
    'size',
    'valid reading padded to 24 MiB',
    post(padded(validReading(ghost()), 24 * 1024 * 1024)),
    bodyError([413], NAMES_SIZE),
  );
  add('size', 'invalid JSON of 6 MiB', post(Buffer.alloc(6 * 1024 * 1024, 0x7b)), bodyError([413], NAMES_SIZE));
  add(
    'size',
    `valid reading padded to MAX_BODY_BYTES + 1, sent chunked (no content-length)`,
    post({ chunked: padded(rawArray([validReading(ghost())]), overSize) }),
    bodyError([413], NAMES_SIZE),
  );
  add(
    'size',
    '6 MiB of readings sent chunked',
    post({
      chunked: Buffer.from(
        rawArray(
          Array.from(
            { length: 60_000 },
            () => `{"sensorId":"${GHOST_PREFIX}0","metric":"m","value":1.25,"x":"${'p'.repeat(40)}"}`,
          ),
        ),
      ),
    }),
    bodyError([413], NAMES_SIZE),
  );
  // too big and not JSON: either refusal is documented
  add('size', 'text/plain of 6 MiB', post(Buffer.alloc(6 * 1024 * 1024, 0x61), { 'content-type': 'text/plain' }), {
    status: [413, 415],
  });
  const tiny = () => `{"sensorId":${J(ghost())},"metric":"m","value":1}`;
  add(
    'size',
    `${opts.maxPoints + 1} valid readings`,
    post(rawArray(Array.from({ length: opts.maxPoints + 1 }, tiny))),
    bodyError([413], /MAX_POINTS_PER_REQUEST|readings|many|large/i),
  );
  add(
    'size',
    `${opts.maxPoints + 1} invalid readings`,
    post(rawArray(Array.from({ length: opts.maxPoints + 1 }, () => '{}'))),
    bodyError([413], /MAX_POINTS_PER_REQUEST|readings|many|large/i),
  );
  add(
    'size',
    '50,000 empty objects',
    post(rawArray(Array.from({ length: 50_000 }, () => '{}'))),
    bodyError([413], /MAX_POINTS_PER_REQUEST|readings|many|large/i),
  );
  add(
    'size',
    `${opts.maxPoints} readings, all missing value`,
    post(rawArray(Array.from({ length: opts.maxPoints }, () => `{"sensorId":${J(ghost())},"metric":"m"}`))),
    readingsError(Array.from({ length: opts.maxPoints }, (_, i) => i)),
  );
  // edges that are valid (controls): exactly MAX_BODY_BYTES, exactly MAX_POINTS_PER_REQUEST
  {
    const sid = okId();
    add(
      'size',
      'control: one reading padded to exactly MAX_BODY_BYTES',
      post(padded(rawArray([`{"sensorId":"${sid}","metric":"m","value":7}`]), opts.maxBodyBytes)),
      { status: [202], accepted: 1, stored: { sensorId: sid, value: 7 } },
    );
    const many = okId();
    add(
      'size',
      `control: exactly ${opts.maxPoints} readings`,
      post(
        rawArray(
          Array.from(
            { length: opts.maxPoints },
            (_, i) => `{"sensorId":"${many}","metric":"m","value":${i},"ts":${now - DAY - i}}`,
          ),
        ),
      ),
      { status: [202], accepted: opts.maxPoints },
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Deeply nested and huge JSON

  const deepArray = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
  const deepObject = (depth: number, leaf = '"v"') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  for (const depth of [10_000, 100_000]) {
    const d = depth.toLocaleString('en');
    const deepOk = /depth|nest|json|body|pars/i;
    add('deep', `value nested ${d} arrays deep`, post(rawObject(withField(ghost(), 'value', deepArray(depth)))), {
      ...readingsError([0], [[0, 'value']]),
      orBodyLevel: deepOk,
    });
    add('deep', `value nested ${d} objects deep`, post(rawObject(withField(ghost(), 'value', deepObject(depth)))), {
      ...readingsError([0], [[0, 'value']]),
      orBodyLevel: deepOk,
    });
    add('deep', `tags nested ${d} objects deep`, post(rawObject(withField(ghost(), 'tags', deepObject(depth)))), {
      ...readingsError([0], [[0, 'tags']]),
      orBodyLevel: deepOk,
    });
    add(
      'deep',
      `tag value nested ${d} arrays deep`,
      post(rawObject(withField(ghost(), 'tags', `{"site":${deepArray(depth, '"v"')}}`))),
      { ...readingsError([0], [[0, 'tags']]), orBodyLevel: deepOk },
    );
    add(
      'deep',
      `ts nested ${d} arrays deep`,
      post(rawObject(withField(ghost(), 'ts', deepArray(depth, String(now - DAY))))),
      { ...readingsError([0], [[0, 'ts']]), orBodyLevel: deepOk },
    );
    add(
      'deep',
      `unknown field nested ${d} objects deep`,
      post(rawObject([...validEntries(ghost()), ['nested', deepObject(depth)]])),
      { ...readingsError([0], [[0, 'nested']]), orBodyLevel: deepOk },
    );
    add('deep', `body nested ${d} arrays deep`, post(deepArray(depth, validReading(ghost()))), {
      ...readingsError([0]),
      orBodyLevel: deepOk,
    });
    add(
      'deep',
      `reading 3 of 5 with tags nested ${d} deep`,
      post(
        rawArray(
          [0, 1, 2, 3, 4].map((i) =>
            i === 3 ? rawObject(withField(ghost(), 'tags', deepObject(depth))) : validReading(ghost()),
          ),
        ),
      ),
      { ...readingsError([3], [[3, 'tags']]), orBodyLevel: deepOk },
    );
  }
  {
    const keys = (n: number, prefix: string): Entry[] => Array.from({ length: n }, (_, i) => [`${prefix}${i}`, '1']);
    add(
      'huge',
      'one reading with 100,000 unknown keys',
      post(rawObject([...validEntries(ghost()), ...keys(100_000, 'x')])),
      readingsError(
        [0],
        [
          [0, 'x0'],
          [0, 'x99999'],
        ],
      ),
    );
    add(
      'huge',
      'tags with 50,000 keys',
      post(rawObject(withField(ghost(), 'tags', rawObject(keys(50_000, 'k').map(([k]) => [k, '"v"']))))),
      readingsError([0], [[0, 'tags']]),
    );
    add(
      'huge',
      '2,000 readings with 20 unknown keys each',
      post(rawArray(Array.from({ length: 2000 }, () => rawObject([...validEntries(ghost()), ...keys(20, 'u')])))),
      readingsError(Array.from({ length: 2000 }, (_, i) => i)),
    );
    add(
      'huge',
      'a 2 MiB sensorId',
      post(rawObject(withField('unused', 'sensorId', J('s'.repeat(2 * 1024 * 1024))))),
      readingsError([0], [[0, 'sensorId']]),
    );
    add(
      'huge',
      'a 1 MiB metric',
      post(rawObject(withField(ghost(), 'metric', J('m'.repeat(1024 * 1024))))),
      readingsError([0], [[0, 'metric']]),
    );
    add(
      'huge',
      'a 1 MiB unknown key',
      post(rawObject([...validEntries(ghost()), ['k'.repeat(1024 * 1024), '1']])),
      readingsError([0]),
    );
    add(
      'huge',
      'a value with 4,000 digits',
      post(rawObject(withField(ghost(), 'value', '9'.repeat(4000)))),
      readingsError([0], [[0, 'value']]),
    );
    add(
      'huge',
      'a ts with 4,000 digits',
      post(rawObject(withField(ghost(), 'ts', '9'.repeat(4000)))),
      readingsError([0], [[0, 'ts']]),
    );
    add(
      'huge',
      '100,000 duplicate "value" keys, last one a string',
      post(`{"sensorId":${J(ghost())},"metric":"m",${'"value":1,'.repeat(100_000)}"value":"x"}`),
      readingsError([0], [[0, 'value']]),
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Prototype pollution: refused (as a whole or as that reading), never merged, never a 500

  const protoBodies: [string, (sid: string) => string][] = [
    ['top-level __proto__ object', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"__proto__":{"polluted":"yes"}}`],
    ['top-level __proto__ string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"__proto__":"x"}`],
    ['top-level __proto__ first', (s) => `{"__proto__":{"value":1},"sensorId":${J(s)},"metric":"m"}`],
    [
      'top-level escaped \\u005f_proto__',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"\\u005f_proto__":{"polluted":"yes"}}`,
    ],
    [
      'top-level constructor.prototype',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"constructor":{"prototype":{"polluted":"yes"}}}`,
    ],
    [
      'top-level escaped constructor.prototype',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"\\u0063onstructor":{"prototype":{"polluted":"yes"}}}`,
    ],
    ['top-level constructor string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"constructor":"x"}`],
    ['top-level constructor empty object', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"constructor":{}}`],
    ['top-level prototype object', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"prototype":{"polluted":"yes"}}`],
    ['tags __proto__ string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"__proto__":"x"}}`],
    [
      'tags __proto__ object',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"__proto__":{"polluted":"yes"}}}`,
    ],
    [
      'tags __proto__ among good tags',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"site":"a","__proto__":{"site":"b"}}}`,
    ],
    [
      'tags constructor.prototype',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"constructor":{"prototype":{"polluted":"yes"}}}}`,
    ],
    ['tags constructor string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"constructor":"x"}}`],
    ['tags prototype string', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"tags":{"prototype":"x"}}`],
    ['value __proto__ object', (s) => `{"sensorId":${J(s)},"metric":"m","value":{"__proto__":{"valueOf":1}}}`],
    [
      'ts constructor.prototype',
      (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"ts":{"constructor":{"prototype":{"x":1}}}}`,
    ],
  ];
  const protoFields: Record<string, string> = { tags: 'tags', value: 'value', ts: 'ts' };
  for (const [label, make] of protoBodies) {
    const where = label.split(' ')[0];
    const field = protoFields[where];
    const fieldsAt = (i: number): [number, string][] => (field ? [[i, field]] : []);
    add('proto', `single: ${label}`, post(make(ghost())), {
      ...readingsError([0], fieldsAt(0)),
      orBodyLevel: NAMES_PROTO,
    });
    for (const at of [0, 2, 4]) {
      const items = [0, 1, 2, 3, 4].map((i) => (i === at ? make(ghost()) : validReading(ghost())));
      add('proto', `array, element ${at}: ${label}`, post(rawArray(items)), {
        ...readingsError([at], fieldsAt(at)),
        orBodyLevel: NAMES_PROTO,
      });
    }
  }
  add('proto', 'body is {"__proto__":[]}', post('{"__proto__":[]}'), {
    status: [400],
    orBodyLevel: NAMES_PROTO,
    invalid: [0],
  });
  add('proto', 'body is {"constructor":{"prototype":{}}}', post('{"constructor":{"prototype":{}}}'), {
    status: [400],
    orBodyLevel: NAMES_PROTO,
    invalid: [0],
  });

  // -------------------------------------------------------------------------------------------------------
  // Duplicate keys. Choice: the JSON.parse reading (the last occurrence wins) is the document. If it is valid the
  // request is accepted and the last value is the one stored; if it is invalid, the reading is reported.

  {
    const dupOk: [string, (s: string) => string, number][] = [
      ['duplicate value, last one valid', (s) => `{"sensorId":${J(s)},"metric":"m","value":"x","value":11}`, 11],
      ['duplicate value, both numbers', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"value":12}`, 12],
      [
        'duplicate sensorId, last one valid',
        (s) => `{"sensorId":"bad id","metric":"m","value":13,"sensorId":${J(s)}}`,
        13,
      ],
      [
        'duplicate ts, last one valid',
        (s) => `{"sensorId":${J(s)},"metric":"m","value":14,"ts":"yesterday","ts":${now - DAY}}`,
        14,
      ],
      [
        'duplicate tags, last one valid',
        (s) => `{"sensorId":${J(s)},"metric":"m","value":15,"tags":null,"tags":{"a":"b"}}`,
        15,
      ],
      [
        'duplicate tag key, last value valid',
        (s) => `{"sensorId":${J(s)},"metric":"m","value":16,"tags":{"a":1,"a":"b"}}`,
        16,
      ],
      [
        '1,000 duplicate value keys, last one valid',
        (s) => `{"sensorId":${J(s)},"metric":"m",${'"value":"x",'.repeat(1000)}"value":17}`,
        17,
      ],
    ];
    for (const [label, make, value] of dupOk) {
      const sid = okId();
      add('duplicate-keys', label, post(make(sid)), { status: [202], accepted: 1, stored: { sensorId: sid, value } });
    }
    for (const b of bad.filter((x) => x.label.startsWith('duplicate'))) {
      add(
        'duplicate-keys',
        `${b.label} (alone)`,
        post(b.raw()),
        readingsError(
          [0],
          b.fields.map((f) => [0, f]),
        ),
      );
      add(
        'duplicate-keys',
        `${b.label} (2nd of 3)`,
        post(rawArray([validReading(ghost()), b.raw(), validReading(ghost())])),
        readingsError(
          [1],
          b.fields.map((f) => [1, f]),
        ),
      );
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Idempotency-Key header (1-128 printable ASCII) and reading ids

  {
    const withKey = (key: string, body = validReading(ghost())) => post(body, { ...JSON_CT, 'idempotency-key': key });
    const keyError = bodyError([400], /idempotency-key/i);
    add('idempotency-key', 'empty Idempotency-Key', withKey(''), keyError);
    add('idempotency-key', '129-character Idempotency-Key', withKey('k'.repeat(129)), keyError);
    add('idempotency-key', '1,000-character Idempotency-Key', withKey('k'.repeat(1000)), keyError);
    add('idempotency-key', 'Idempotency-Key with a Latin-1 character', withKey('clé-1'), keyError);
    add('idempotency-key', 'Idempotency-Key with a tab inside', withKey('a\tb'), keyError);
    add(
      'idempotency-key',
      'Idempotency-Key of 129 characters, invalid body',
      withKey('k'.repeat(129), '{"sensorId":1}'),
      { status: [400] },
    );
    add(
      'idempotency-key',
      'valid Idempotency-Key, invalid reading 1 of 2',
      withKey(`key-${int(0, 1e9)}`, rawArray([validReading(ghost()), '{"metric":"m","value":1}'])),
      readingsError([1], [[1, 'sensorId']]),
    );
    // controls
    for (const key of ['k'.repeat(128), '!"#$%&\'()*+,-./0123456789:;<=>?@[\\]^_`{|}~', `retry-${int(0, 1e9)}`]) {
      const sid = okId();
      add(
        'idempotency-key',
        `control: Idempotency-Key ${J(key.slice(0, 30))} (${key.length} chars)`,
        withKey(key, `{"sensorId":"${sid}","metric":"m","value":3}`),
        { status: [202], accepted: 1 },
      );
    }
    // "printable ASCII" usually includes the space (0x20): documented either way? accept both, reported.
    {
      const sid = okId();
      add(
        'idempotency-key',
        'ambiguous: Idempotency-Key with an inner space',
        withKey('a b', `{"sensorId":"${sid}","metric":"m","value":3}`),
        { status: [202, 400] },
      );
    }
    const sid = okId();
    add(
      'reading-id',
      'control: id of 128 characters',
      post(`{"id":"${'i'.repeat(120)}${int(10_000_000, 99_999_999)}","sensorId":"${sid}","metric":"m","value":5}`),
      { status: [202], accepted: 1, stored: { sensorId: sid, value: 5 } },
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // GET /v1/aggregates

  const base: Record<string, string> = {
    sensorId: 'boiler-7',
    metric: 'temperature',
    from: new Date(now - DAY).toISOString(),
    to: new Date(now).toISOString(),
    window: 'hour',
  };
  // percent-encoding; a lone surrogate (no UTF-8 form) is sent as the bytes of its CESU-8 form, invalid UTF-8
  const enc = (text: string) =>
    Array.from(text, (ch) => (/^[\uD800-\uDFFF]$/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
  const qs = (params: [string, string][]) => params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  const get = (query: string): BadRequest => ({ method: 'GET', path: `/v1/aggregates?${query}`, headers: {} });
  const entriesOf = (over: Record<string, string | undefined>): [string, string][] =>
    Object.entries({ ...base, ...over }).filter((e): e is [string, string] => e[1] !== undefined);
  const agg400 = (message: RegExp): Expected => ({ status: [400], message });

  for (const name of Object.keys(base)) {
    add('aggregates', `missing ${name}`, get(qs(entriesOf({ [name]: undefined }))), agg400(new RegExp(name)));
    add('aggregates', `empty ${name}`, get(qs(entriesOf({ [name]: '' }))), agg400(new RegExp(name)));
    add(
      'aggregates',
      `${name} without "="`,
      get(qs(entriesOf({ [name]: undefined })) + `&${name}`),
      agg400(new RegExp(name)),
    );
    add(
      'aggregates',
      `${name} repeated, same value`,
      get(qs(entriesOf({})) + `&${qs([[name, base[name]]])}`),
      agg400(new RegExp(name)),
    );
  }
  add(
    'aggregates',
    'no query string',
    { method: 'GET', path: '/v1/aggregates', headers: {} },
    agg400(/sensorId|metric|from|to|window/),
  );
  add('aggregates', 'only sensorId', get(qs([['sensorId', 'boiler-7']])), agg400(/metric|from|to|window/));
  add('aggregates', 'from=a&from=b', get(qs(entriesOf({ from: undefined })) + '&from=a&from=b'), agg400(/from/));
  add(
    'aggregates',
    'from repeated with two valid instants',
    get(qs(entriesOf({})) + `&from=${encodeURIComponent(new Date(now - 2 * DAY).toISOString())}`),
    agg400(/from/),
  );
  add('aggregates', 'to repeated with two valid instants', get(qs(entriesOf({})) + `&to=${now - HOUR}`), agg400(/to/));
  add(
    'aggregates',
    'window=hour&window=day',
    get(qs(entriesOf({ window: undefined })) + '&window=hour&window=day'),
    agg400(/window/),
  );
  add(
    'aggregates',
    'sensorId=a&sensorId=b',
    get(qs(entriesOf({ sensorId: undefined })) + '&sensorId=a&sensorId=b'),
    agg400(/sensorId/),
  );
  add('aggregates', 'metric[]=x', get(qs(entriesOf({ metric: undefined })) + '&metric[]=x'), agg400(/metric/));
  add('aggregates', 'from[gt]=0', get(qs(entriesOf({ from: undefined })) + '&from[gt]=0'), agg400(/from/));

  const badWindows = [
    '0m',
    '0s',
    '00m',
    '05m',
    'm',
    '5',
    '-5m',
    '+5m',
    '1.5h',
    '5M',
    '5H',
    '5 m',
    ' 5m',
    '5m ',
    '5m\n',
    '5ms',
    '5w',
    '5y',
    '1000000s',
    '1e3s',
    'Minute',
    'MINUTE',
    'minutes',
    'hourly',
    'week',
    'month',
    '5m5s',
    '367d',
    '8785h',
    '999999d',
    'Infinity',
    'NaN',
    '1',
    'hour;day',
    'hour,day',
    '5 minutes',
    '😀',
    '\u0000',
    'h\u0301our',
    // names Object.prototype gives every object
    'constructor',
    'toString',
    'valueOf',
    'hasOwnProperty',
    '__proto__',
    'isPrototypeOf',
    'propertyIsEnumerable',
    'toLocaleString',
    '__defineGetter__',
    '__lookupSetter__',
  ];
  for (const w of badWindows) {
    add('aggregates', `window ${J(w)}`, get(qs(entriesOf({ window: w }))), agg400(/window/));
  }
  const badInstants = [
    'yesterday',
    'now',
    '2026-11-28',
    '2026-11-28T00:00:00',
    '2026-11-28T00:00',
    '2026-13-01T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-11-28T25:00:00Z',
    '2026-11-28 00:00:00Z',
    'Sat, 28 Nov 2026 00:00:00 GMT',
    '1.5',
    '1e12',
    '0x10',
    ' 1',
    '1 ',
    '+1',
    '99999999999999999999',
    '9007199254740993',
    'NaN',
    'Infinity',
    '-Infinity',
    'null',
    'true',
    '[]',
    '{}',
    '😀',
    '\u0000',
    '2026-11-28T00:00:00Z\n',
    '1795838400000ms',
  ];
  for (const v of badInstants) {
    for (const name of ['from', 'to']) {
      add('aggregates', `${name} ${J(v)}`, get(qs(entriesOf({ [name]: v }))), agg400(new RegExp(name)));
    }
  }
  // reversed or empty ranges
  for (let i = 0; i < 20; i++) {
    const a = now - int(0, 365) * DAY - int(0, DAY);
    const b = i < 5 ? a : a - int(1, 30 * DAY);
    const fmt = (t: number) => (rand() < 0.5 ? String(t) : new Date(t).toISOString());
    add(
      'aggregates',
      `${i < 5 ? 'from == to' : 'reversed'} range`,
      get(qs(entriesOf({ from: fmt(a), to: fmt(b), window: pick(['minute', 'hour', 'day', '5m']) }))),
      agg400(/from|to|before/),
    );
  }
  // too many buckets
  const windowsMs: [string, number][] = [
    ['1s', 1000],
    ['30s', 30_000],
    ['minute', MINUTE],
    ['5m', 5 * MINUTE],
    ['hour', HOUR],
    ['day', DAY],
  ];
  for (const [w, ms] of windowsMs) {
    const to = Math.floor(now / ms) * ms;
    add(
      'aggregates',
      `${opts.maxBuckets + 1} ${w} buckets (aligned)`,
      get(qs(entriesOf({ from: String(to - (opts.maxBuckets + 1) * ms), to: String(to), window: w }))),
      agg400(/MAX_BUCKETS|bucket/),
    );
    add(
      'aggregates',
      `${opts.maxBuckets} ${w} buckets + 1 ms`,
      get(qs(entriesOf({ from: String(to - opts.maxBuckets * ms - 1), to: String(to), window: w }))),
      agg400(/MAX_BUCKETS|bucket/),
    );
    add(
      'aggregates',
      `control: exactly ${opts.maxBuckets} ${w} buckets`,
      get(qs(entriesOf({ from: String(to - opts.maxBuckets * ms), to: String(to), window: w }))),
      { status: [200] },
    );
  }
  add(
    'aggregates',
    'all of time in 1s buckets',
    get(qs(entriesOf({ from: '0', to: String(8.64e15), window: '1s' }))),
    agg400(/MAX_BUCKETS|bucket/),
  );
  add(
    'aggregates',
    'max safe range in 1s buckets',
    get(qs(entriesOf({ from: String(-Number.MAX_SAFE_INTEGER), to: String(Number.MAX_SAFE_INTEGER), window: '1s' }))),
    agg400(/from must/), // beyond what a Date holds (issue 13), refused before any bucket count
  );
  add(
    'aggregates',
    'max safe range in 366d buckets',
    get(qs(entriesOf({ from: String(-Number.MAX_SAFE_INTEGER), to: String(Number.MAX_SAFE_INTEGER), window: '366d' }))),
    agg400(/from must/), // beyond what a Date holds (issue 13), refused before any bucket count
  );
  // unknown parameters (http.ts: "unknown parameters are an error")
  for (const [k, v] of [
    ['foo', '1'],
    ['limit', '10'],
    ['FROM', base.from],
    ['sensorid', 'boiler-7'],
    ['Window', 'hour'],
    ['tags', 'site'],
    ['__proto__', 'x'],
    ['constructor', 'x'],
    ['constructor[prototype][polluted]', 'yes'],
    ['__proto__[polluted]', 'yes'],
    ['prototype', 'x'],
    ['toString', 'x'],
    ['hasOwnProperty', 'x'],
    ['😀', '1'],
  ] as [string, string][]) {
    const named = new RegExp(k.slice(0, 9).replace(/[[\]\\^$.|?*+()]/g, '\\$&'));
    add('aggregates', `unknown parameter ${J(k)}`, get(qs(entriesOf({})) + `&${qs([[k, v]])}`), agg400(named));
  }
  // malformed sensorId / metric
  for (let i = 0; i < 40; i++) {
    const name = i % 2 === 0 ? 'sensorId' : 'metric';
    const { name: value } = fuzzName(name === 'sensorId' ? 128 : 64);
    add(
      'aggregates',
      `${name} ${J(value).slice(0, 40)}`,
      get(qs(entriesOf({ [name]: value }))),
      agg400(new RegExp(name)),
    );
  }
  for (const raw of ['%', '%zz', '%00', '%FF', '%C3%28', '%ED%A0%80']) {
    add(
      'aggregates',
      `sensorId with raw escape ${raw}`,
      get(qs(entriesOf({ sensorId: undefined })) + `&sensorId=a${raw}b`),
      agg400(/sensorId/),
    );
  }
  // random: a valid query with one to three random defects
  const defects: (() => [string, string | undefined, RegExp])[] = [
    () => ['window', pick(badWindows), /window/],
    () => ['from', pick(badInstants), /from/],
    () => ['to', pick(badInstants), /to/],
    () => [pick(Object.keys(base)), undefined, /sensorId|metric|from|to|window/],
    () => ['sensorId', fuzzName(128).name, /sensorId/],
    () => ['metric', fuzzName(64).name, /metric/],
  ];
  for (let i = 0; i < 150; i++) {
    const over: Record<string, string | undefined> = {};
    const names: string[] = [];
    for (let d = int(1, 3); d > 0; d--) {
      const [name, value, re] = pick(defects)();
      over[name] = value;
      names.push(re.source);
    }
    add(
      'aggregates',
      `random defects ${J(over).slice(0, 80)}`,
      get(qs(entriesOf(over))),
      agg400(new RegExp(names.join('|'))),
    );
  }

  return cases;
}

/** Ids of readings that the corpus sends only in requests that must be refused. */
export function isGhost(sensorId: string): boolean {
  return sensorId.startsWith(GHOST_PREFIX);
}
