// Attack family "query parameters" of GET /v1/aggregates: missing, repeated, malformed, unknown, too many buckets.
import type { CorpusKit } from './kit.js';
import { fuzzName } from './names.js';
import { DAY, HOUR, J, MINUTE, NAMES_BUCKETS } from './raw-json.js';
import { MAX_METRIC, MAX_SENSOR_ID } from './rules.js';
import type { Expected } from './types.js';

/** `window` values that are no window. */
const BAD_WINDOWS = [
  ...['0m', '0s', '00m', '05m', 'm', '5', '-5m', '+5m', '1.5h', '5M', '5H', '5 m', ' 5m', '5m ', '5m\n', '5ms'],
  ...['5w', '5y', '1000000s', '1e3s', 'Minute', 'MINUTE', 'minutes', 'hourly', 'week', 'month', '5m5s', '367d'],
  ...['8785h', '999999d', 'Infinity', 'NaN', '1', 'hour;day', 'hour,day', '5 minutes', '😀', '\u0000', 'h\u0301our'],
  // names Object.prototype gives every object
  ...['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf', 'propertyIsEnumerable'],
  ...['toLocaleString', '__defineGetter__', '__lookupSetter__'],
];

/** `from` / `to` values that are no instant. */
const BAD_INSTANTS = [
  ...['yesterday', 'now', '2026-11-28', '2026-11-28T00:00:00', '2026-11-28T00:00', '2026-13-01T00:00:00Z'],
  ...['2026-02-30T00:00:00Z', '2026-11-28T25:00:00Z', '2026-11-28 00:00:00Z', 'Sat, 28 Nov 2026 00:00:00 GMT'],
  ...['1.5', '1e12', '0x10', ' 1', '1 ', '+1', '99999999999999999999', '9007199254740993', 'NaN', 'Infinity'],
  ...['-Infinity', 'null', 'true', '[]', '{}', '😀', '\u0000', '2026-11-28T00:00:00Z\n', '1795838400000ms'],
];

/** Windows and their length, for the bucket-count limit. */
const WINDOWS_MS: [string, number][] = [
  ['1s', 1000],
  ['30s', 30_000],
  ['minute', MINUTE],
  ['5m', 5 * MINUTE],
  ['hour', HOUR],
  ['day', DAY],
];

/** Parameters the endpoint does not know (case variants and prototype names among them). */
const unknownParams = (from: string): [string, string][] => [
  ['foo', '1'],
  ['limit', '10'],
  ['FROM', from],
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
];

/** Percent escapes that decode to nothing valid. */
const RAW_ESCAPES = ['%', '%zz', '%00', '%FF', '%C3%28', '%ED%A0%80'];

/** How many malformed names, and how many queries with random defects, the corpus sends. */
const FUZZED_NAMES = 40;
const RANDOM_DEFECTS = 150;

// percent-encoding; a lone surrogate (no UTF-8 form) is sent as the bytes of its CESU-8 form, invalid UTF-8
const enc = (text: string) =>
  Array.from(text, (ch) => (/^[\uD800-\uDFFF]$/.test(ch) ? '%ED%A0%80' : encodeURIComponent(ch))).join('');
const qs = (params: [string, string][]) => params.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
const agg400 = (message: RegExp): Expected => ({ status: [400], message });
const names = (name: string) => new RegExp(name.slice(0, 9).replace(/[[\]\\^$.|?*+()]/g, '\\$&'));

export function addQueryCases(kit: CorpusKit): void {
  const { now } = kit;
  const { maxBuckets } = kit.opts;
  const base: Record<string, string> = {
    sensorId: 'boiler-7',
    metric: 'temperature',
    from: new Date(now - DAY).toISOString(),
    to: new Date(now).toISOString(),
    window: 'hour',
  };
  const entriesOf = (over: Record<string, string | undefined>): [string, string][] =>
    Object.entries({ ...base, ...over }).filter((e): e is [string, string] => e[1] !== undefined);
  const add = (label: string, query: string, expect: Expected) => kit.add('aggregates', label, kit.get(query), expect);
  const addWith = (label: string, over: Record<string, string | undefined>, extra: string, message: RegExp) =>
    add(label, qs(entriesOf(over)) + extra, agg400(message));

  for (const name of Object.keys(base)) {
    const named = new RegExp(name);
    addWith(`missing ${name}`, { [name]: undefined }, '', named);
    addWith(`empty ${name}`, { [name]: '' }, '', named);
    addWith(`${name} without "="`, { [name]: undefined }, `&${name}`, named);
    addWith(`${name} repeated, same value`, {}, `&${qs([[name, base[name]]])}`, named);
  }
  kit.add(
    'aggregates',
    'no query string',
    { method: 'GET', path: '/v1/aggregates', headers: {} },
    agg400(/sensorId|metric|from|to|window/),
  );
  add('only sensorId', qs([['sensorId', 'boiler-7']]), agg400(/metric|from|to|window/));
  addWith('from=a&from=b', { from: undefined }, '&from=a&from=b', /from/);
  addWith(
    'from repeated with two valid instants',
    {},
    `&from=${encodeURIComponent(new Date(now - 2 * DAY).toISOString())}`,
    /from/,
  );
  addWith('to repeated with two valid instants', {}, `&to=${now - HOUR}`, /to/);
  addWith('window=hour&window=day', { window: undefined }, '&window=hour&window=day', /window/);
  addWith('sensorId=a&sensorId=b', { sensorId: undefined }, '&sensorId=a&sensorId=b', /sensorId/);
  addWith('metric[]=x', { metric: undefined }, '&metric[]=x', /metric/);
  addWith('from[gt]=0', { from: undefined }, '&from[gt]=0', /from/);

  for (const w of BAD_WINDOWS) addWith(`window ${J(w)}`, { window: w }, '', /window/);
  for (const v of BAD_INSTANTS) {
    for (const name of ['from', 'to']) addWith(`${name} ${J(v)}`, { [name]: v }, '', new RegExp(name));
  }
  // reversed or empty ranges
  for (let i = 0; i < 20; i++) {
    const a = now - kit.int(0, 365) * DAY - kit.int(0, DAY);
    const b = i < 5 ? a : a - kit.int(1, 30 * DAY);
    const fmt = (t: number) => (kit.random() < 0.5 ? String(t) : new Date(t).toISOString());
    addWith(
      `${i < 5 ? 'from == to' : 'reversed'} range`,
      { from: fmt(a), to: fmt(b), window: kit.pick(['minute', 'hour', 'day', '5m']) },
      '',
      /from|to|before/,
    );
  }
  // too many buckets, and exactly the most allowed
  for (const [w, ms] of WINDOWS_MS) {
    const to = Math.floor(now / ms) * ms;
    const range = (from: number) => ({ from: String(from), to: String(to), window: w });
    addWith(`${maxBuckets + 1} ${w} buckets (aligned)`, range(to - (maxBuckets + 1) * ms), '', NAMES_BUCKETS);
    addWith(`${maxBuckets} ${w} buckets + 1 ms`, range(to - maxBuckets * ms - 1), '', NAMES_BUCKETS);
    add(`control: exactly ${maxBuckets} ${w} buckets`, qs(entriesOf(range(to - maxBuckets * ms))), { status: [200] });
  }
  const maxSafe = { from: String(-Number.MAX_SAFE_INTEGER), to: String(Number.MAX_SAFE_INTEGER) };
  addWith('all of time in 1s buckets', { from: '0', to: String(8.64e15), window: '1s' }, '', NAMES_BUCKETS);
  // Beyond what a Date holds (issue 13): refused on from/to before any bucket count.
  addWith('max safe range in 1s buckets', { ...maxSafe, window: '1s' }, '', names('from'));
  addWith('max safe range in 366d buckets', { ...maxSafe, window: '366d' }, '', names('from'));
  // unknown parameters are an error
  for (const [k, v] of unknownParams(base.from)) addWith(`unknown parameter ${J(k)}`, {}, `&${qs([[k, v]])}`, names(k));
  // malformed sensorId / metric
  for (let i = 0; i < FUZZED_NAMES; i++) {
    const name = i % 2 === 0 ? 'sensorId' : 'metric';
    const { name: value } = fuzzName(kit, name === 'sensorId' ? MAX_SENSOR_ID : MAX_METRIC);
    addWith(`${name} ${J(value).slice(0, 40)}`, { [name]: value }, '', new RegExp(name));
  }
  for (const raw of RAW_ESCAPES) {
    addWith(`sensorId with raw escape ${raw}`, { sensorId: undefined }, `&sensorId=a${raw}b`, /sensorId/);
  }
  // random: a valid query with one to three random defects
  const defects: (() => [string, string | undefined, RegExp])[] = [
    () => ['window', kit.pick(BAD_WINDOWS), /window/],
    () => ['from', kit.pick(BAD_INSTANTS), /from/],
    () => ['to', kit.pick(BAD_INSTANTS), /to/],
    () => [kit.pick(Object.keys(base)), undefined, /sensorId|metric|from|to|window/],
    () => ['sensorId', fuzzName(kit, MAX_SENSOR_ID).name, /sensorId/],
    () => ['metric', fuzzName(kit, MAX_METRIC).name, /metric/],
  ];
  for (let i = 0; i < RANDOM_DEFECTS; i++) {
    const over: Record<string, string | undefined> = {};
    const found: string[] = [];
    for (let d = kit.int(1, 3); d > 0; d--) {
      const [name, value, re] = kit.pick(defects)();
      over[name] = value;
      found.push(re.source);
    }
    addWith(`random defects ${J(over).slice(0, 80)}`, over, '', new RegExp(found.join('|')));
  }
}
