// Attack family "body shape": not JSON, JSON that is no reading, empty, truncated, deep, huge, prototype keys, duplicates.
import { bodyError, readingsError, type CorpusKit } from './kit.js';
import { DAY, J, NAMES_DEPTH, NAMES_JSON, NAMES_PROTO, rawArray, rawObject, type Entry } from './raw-json.js';
import { manyTags } from './readings.js';
import { MAX_TAGS } from './rules.js';
import type { BadReading } from './types.js';

/** Text JSON.parse refuses, each given fresh ghost ids. */
function notJson(kit: CorpusKit): [string, string][] {
  const g = () => J(kit.ghost());
  const v = () => kit.validReading(kit.ghost());
  return [
    ['raw NaN value', `{"sensorId":${g()},"metric":"m","value":NaN}`],
    ['raw Infinity value', `{"sensorId":${g()},"metric":"m","value":Infinity}`],
    ['raw -Infinity value', `{"sensorId":${g()},"metric":"m","value":-Infinity}`],
    ['raw NaN ts', `{"sensorId":${g()},"metric":"m","value":1,"ts":NaN}`],
    ['raw Infinity in the 3rd reading', rawArray([v(), v(), `{"sensorId":${g()},"metric":"m","value":Infinity}`])],
    ['raw undefined', `{"sensorId":${g()},"metric":"m","value":undefined}`],
    ['leading +', `{"sensorId":${g()},"metric":"m","value":+1}`],
    ['leading zero', `{"sensorId":${g()},"metric":"m","value":01}`],
    ['leading dot', `{"sensorId":${g()},"metric":"m","value":.5}`],
    ['trailing dot', `{"sensorId":${g()},"metric":"m","value":1.}`],
    ['hex number', `{"sensorId":${g()},"metric":"m","value":0x10}`],
    ['single quotes', `{'sensorId':'${kit.ghost()}','metric':'m','value':1}`],
    ['unquoted keys', `{sensorId:${g()},metric:"m",value:1}`],
    ['trailing comma in object', `{"sensorId":${g()},"metric":"m","value":1,}`],
    ['trailing comma in array', `[${v()},]`],
    ['comment', `{"sensorId":${g()},/* c */"metric":"m","value":1}`],
    ['line comment', `{"sensorId":${g()},"metric":"m","value":1}// c`],
    ['raw tab in a string', `{"sensorId":"${kit.ghost()}\tx","metric":"m","value":1}`],
    ['raw newline in a string', `{"sensorId":"${kit.ghost()}\nx","metric":"m","value":1}`],
    ['raw NUL in a string', `{"sensorId":"${kit.ghost()}\u0000x","metric":"m","value":1}`],
    ['bad escape', `{"sensorId":"${kit.ghost()}\\x41","metric":"m","value":1}`],
    ['short unicode escape', `{"sensorId":"${kit.ghost()}\\u12","metric":"m","value":1}`],
    ['two documents', `${v()}${v()}`],
    ['two documents, newline-delimited', `${v()}\n${v()}`],
    ['garbage after the document', `${rawArray([v()])} trailing`],
    ['plain text', 'hello'],
    ['XML', `<point><sensorId>${kit.ghost()}</sensorId></point>`],
    ['form-urlencoded text', `sensorId=${kit.ghost()}&metric=m&value=1`],
    ['whitespace only', ' \n\t '],
    ['unclosed string', '{"sensorId":"abc'],
    ['lone bracket', '['],
    ['lone brace', '{'],
    ['closing only', ']'],
    ['key without value', '{"sensorId"}'],
    ['colon without key', '{:1}'],
    ['BOM in the middle', `{"sensorId":${g()},\uFEFF"metric":"m","value":1}`],
  ];
}

/** Byte sequences that are not UTF-8. */
const INVALID_UTF8 = [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc0, 0xaf]];

/** JSON, but neither a reading nor an array of readings. */
const NOT_A_READING: [string, string][] = [
  ['a string', '"reading"'],
  ['a number', '42'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  ['empty array', '[]'],
  ['empty array with whitespace', ' [ ] '],
];

/** How deep the nesting attacks go. */
const DEPTHS = [10_000, 100_000];

/** Prototype-pollution attempts, given the sensor id; the label's first word says where (tags, value, ts). */
const PROTO_BODIES: [string, (sid: string) => string][] = [
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
const PROTO_FIELDS = new Set(['tags', 'value', 'ts']);

/**
 * Duplicate keys whose last occurrence is valid, given an ok id, and the value that must be stored. Choice: the
 * JSON.parse reading (the last occurrence wins) is the document.
 */
const lastDuplicateValid = (now: number): [string, (s: string) => string, number][] => [
  ['duplicate value, last one valid', (s) => `{"sensorId":${J(s)},"metric":"m","value":"x","value":11}`, 11],
  ['duplicate value, both numbers', (s) => `{"sensorId":${J(s)},"metric":"m","value":1,"value":12}`, 12],
  ['duplicate sensorId, last one valid', (s) => `{"sensorId":"bad id","metric":"m","value":13,"sensorId":${J(s)}}`, 13],
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

export function addNotJsonCases(kit: CorpusKit): void {
  for (const [label, text] of notJson(kit)) kit.add('not-json', label, kit.post(text), bodyError([400], NAMES_JSON));
  // invalid UTF-8 inside a string: refused as a whole, or as that reading's sensorId
  for (const bytes of INVALID_UTF8) {
    const body = Buffer.concat([
      Buffer.from(`[${kit.validReading(kit.ghost())},{"sensorId":"${kit.ghost()}`),
      Buffer.from(bytes),
      Buffer.from('","metric":"m","value":1}]'),
    ]);
    kit.add(
      'not-json',
      `invalid UTF-8 ${Buffer.from(bytes).toString('hex')} in sensorId of reading 1`,
      kit.post(body),
      {
        status: [400],
        invalid: [1],
        fields: [[1, 'sensorId']],
        orBodyLevel: /json|utf|encod|body|pars/i,
      },
    );
  }
}

export function addNotAReadingCases(kit: CorpusKit): void {
  for (const [label, text] of NOT_A_READING)
    kit.add('not-a-reading', `body is ${label}`, kit.post(text), { status: [400] });
  kit.add(
    'not-a-reading',
    'body is an empty object',
    kit.post('{}'),
    readingsError(
      [0],
      [
        [0, 'sensorId'],
        [0, 'metric'],
        [0, 'value'],
      ],
    ),
  );
  kit.add('not-a-reading', 'body is [[]]', kit.post('[[]]'), readingsError([0]));
  kit.add('not-a-reading', 'body is [null]', kit.post('[null]'), readingsError([0]));
  kit.add(
    'not-a-reading',
    'body is [1,"a",null,[],true,{}]',
    kit.post('[1,"a",null,[],true,{}]'),
    readingsError([0, 1, 2, 3, 4, 5]),
  );
  kit.add(
    'not-a-reading',
    'body is an array of arrays of readings',
    kit.post(rawArray([rawArray([kit.validReading(kit.ghost())]), kit.validReading(kit.ghost())])),
    readingsError([0]),
  );
}

export function addEmptyCases(kit: CorpusKit): void {
  const empty = Buffer.alloc(0);
  kit.add('empty', 'empty body, application/json', kit.post(empty), bodyError([400], /empty|body|json/i));
  kit.add(
    'empty',
    'empty body, application/json; charset=utf-8',
    kit.post(empty, { 'content-type': 'application/json; charset=utf-8' }),
    bodyError([400], /empty|body|json/i),
  );
  // no content type and no body: nothing to parse; neither status is more documented than the other
  kit.add('empty', 'empty body, no content type', kit.post(empty, {}), { status: [400, 415] });
}

/** Valid bodies cut at every few bytes (multi-byte characters get split too). */
export function addTruncatedCases(kit: CorpusKit): void {
  const v = () => kit.validReading(kit.ghost());
  const toTruncate: string[] = [
    v(),
    rawObject([...kit.validEntries(kit.ghost()), ['tags', J({ site: 'Zürich ✓ 😀', floor: '2' })]]),
    rawObject([
      ['sensorId', J(kit.ghost())],
      ['metric', '"temperature"'],
      ['value', '-21.5e-3'],
      ['ts', J(new Date(kit.now - DAY).toISOString())],
      ['tags', J({ a: 'b', c: 'd' })],
    ]),
    rawArray([v(), v()]),
    rawArray([v(), v(), v(), v()]),
    `[\n  ${v()},\n  ${v()}\n]`,
    rawObject([
      ['sensorId', J(kit.ghost())],
      ['metric', '"m"'],
      ['value', '1'],
      ['tags', manyTags(MAX_TAGS)],
    ]),
    rawArray(Array.from({ length: 6 }, v)),
  ];
  for (const [n, full] of toTruncate.entries()) {
    const bytes = Buffer.from(full, 'utf8');
    const step = n < 3 ? 1 : 3;
    for (let cut = 1; cut < bytes.length; cut += step) {
      const prefix = bytes.subarray(0, cut);
      if (/^\s*$/.test(prefix.toString('utf8'))) continue;
      kit.add(
        'truncated',
        `body ${n} cut at byte ${cut}/${bytes.length}`,
        kit.post(Buffer.from(prefix)),
        bodyError([400], NAMES_JSON),
      );
    }
  }
}

/** Deeply nested JSON: refused as that reading (or as a whole), never a crash. */
export function addDeepCases(kit: CorpusKit): void {
  const deepArray = (depth: number, leaf = '1') => '['.repeat(depth) + leaf + ']'.repeat(depth);
  const deepObject = (depth: number, leaf = '"v"') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  const deep = (label: string, body: string, invalid: number[], fields: [number, string][] = []) =>
    kit.add('deep', label, kit.post(body), { ...readingsError(invalid, fields), orBodyLevel: NAMES_DEPTH });
  for (const depth of DEPTHS) {
    const d = depth.toLocaleString('en');
    const withField = (key: string, raw: string) => rawObject(kit.withField(kit.ghost(), key, raw));
    deep(`value nested ${d} arrays deep`, withField('value', deepArray(depth)), [0], [[0, 'value']]);
    deep(`value nested ${d} objects deep`, withField('value', deepObject(depth)), [0], [[0, 'value']]);
    deep(`tags nested ${d} objects deep`, withField('tags', deepObject(depth)), [0], [[0, 'tags']]);
    deep(
      `tag value nested ${d} arrays deep`,
      withField('tags', `{"site":${deepArray(depth, '"v"')}}`),
      [0],
      [[0, 'tags']],
    );
    deep(`ts nested ${d} arrays deep`, withField('ts', deepArray(depth, String(kit.now - DAY))), [0], [[0, 'ts']]);
    deep(
      `unknown field nested ${d} objects deep`,
      rawObject([...kit.validEntries(kit.ghost()), ['nested', deepObject(depth)]]),
      [0],
      [[0, 'nested']],
    );
    deep(`body nested ${d} arrays deep`, deepArray(depth, kit.validReading(kit.ghost())), [0]);
    deep(
      `reading 3 of 5 with tags nested ${d} deep`,
      rawArray(
        [0, 1, 2, 3, 4].map((i) => (i === 3 ? withField('tags', deepObject(depth)) : kit.validReading(kit.ghost()))),
      ),
      [3],
      [[3, 'tags']],
    );
  }
}

/** Huge documents inside the body limit: many keys, long strings, long numbers. */
export function addHugeCases(kit: CorpusKit): void {
  const keys = (n: number, prefix: string): Entry[] => Array.from({ length: n }, (_, i) => [`${prefix}${i}`, '1']);
  const huge = (label: string, body: string, invalid: number[], fields: [number, string][] = []) =>
    kit.add('huge', label, kit.post(body), readingsError(invalid, fields));
  huge(
    'one reading with 100,000 unknown keys',
    rawObject([...kit.validEntries(kit.ghost()), ...keys(100_000, 'x')]),
    [0],
    [
      [0, 'x0'],
      [0, 'x99999'],
    ],
  );
  huge(
    'tags with 50,000 keys',
    rawObject(kit.withField(kit.ghost(), 'tags', rawObject(keys(50_000, 'k').map(([k]) => [k, '"v"'])))),
    [0],
    [[0, 'tags']],
  );
  huge(
    '2,000 readings with 20 unknown keys each',
    rawArray(Array.from({ length: 2000 }, () => rawObject([...kit.validEntries(kit.ghost()), ...keys(20, 'u')]))),
    Array.from({ length: 2000 }, (_, i) => i),
  );
  huge(
    'a 2 MiB sensorId',
    rawObject(kit.withField('unused', 'sensorId', J('s'.repeat(2 * 1024 * 1024)))),
    [0],
    [[0, 'sensorId']],
  );
  huge(
    'a 1 MiB metric',
    rawObject(kit.withField(kit.ghost(), 'metric', J('m'.repeat(1024 * 1024)))),
    [0],
    [[0, 'metric']],
  );
  huge('a 1 MiB unknown key', rawObject([...kit.validEntries(kit.ghost()), ['k'.repeat(1024 * 1024), '1']]), [0]);
  huge(
    'a value with 4,000 digits',
    rawObject(kit.withField(kit.ghost(), 'value', '9'.repeat(4000))),
    [0],
    [[0, 'value']],
  );
  huge('a ts with 4,000 digits', rawObject(kit.withField(kit.ghost(), 'ts', '9'.repeat(4000))), [0], [[0, 'ts']]);
  huge(
    '100,000 duplicate "value" keys, last one a string',
    `{"sensorId":${J(kit.ghost())},"metric":"m",${'"value":1,'.repeat(100_000)}"value":"x"}`,
    [0],
    [[0, 'value']],
  );
}

/** Prototype pollution: refused (as a whole or as that reading), never merged, never a 500. */
export function addProtoCases(kit: CorpusKit): void {
  for (const [label, make] of PROTO_BODIES) {
    const where = label.split(' ')[0];
    const fieldsAt = (i: number): [number, string][] => (PROTO_FIELDS.has(where) ? [[i, where]] : []);
    kit.add('proto', `single: ${label}`, kit.post(make(kit.ghost())), {
      ...readingsError([0], fieldsAt(0)),
      orBodyLevel: NAMES_PROTO,
    });
    for (const at of [0, 2, 4]) {
      const items = [0, 1, 2, 3, 4].map((i) => (i === at ? make(kit.ghost()) : kit.validReading(kit.ghost())));
      kit.add('proto', `array, element ${at}: ${label}`, kit.post(rawArray(items)), {
        ...readingsError([at], fieldsAt(at)),
        orBodyLevel: NAMES_PROTO,
      });
    }
  }
  for (const body of ['{"__proto__":[]}', '{"constructor":{"prototype":{}}}']) {
    kit.add('proto', `body is ${body}`, kit.post(body), { status: [400], orBodyLevel: NAMES_PROTO, invalid: [0] });
  }
}

/**
 * Duplicate keys: if the last occurrence makes the reading valid it is accepted and the last value is the one
 * stored; if it makes it invalid, the reading is reported (alone and inside an array).
 */
export function addDuplicateKeyCases(kit: CorpusKit, bad: BadReading[]): void {
  for (const [label, make, value] of lastDuplicateValid(kit.now)) {
    const sid = kit.okId();
    kit.add('duplicate-keys', label, kit.post(make(sid)), {
      status: [202],
      accepted: 1,
      stored: { sensorId: sid, value },
    });
  }
  for (const b of bad.filter((x) => x.label.startsWith('duplicate'))) {
    kit.add(
      'duplicate-keys',
      `${b.label} (alone)`,
      kit.post(b.raw()),
      readingsError(
        [0],
        b.fields.map((f) => [0, f]),
      ),
    );
    kit.add(
      'duplicate-keys',
      `${b.label} (2nd of 3)`,
      kit.post(rawArray([kit.validReading(kit.ghost()), b.raw(), kit.validReading(kit.ghost())])),
      readingsError(
        [1],
        b.fields.map((f) => [1, f]),
      ),
    );
  }
}
