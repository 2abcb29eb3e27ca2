// GET /v2/aggregates against an independent oracle: readings posted through the api (a leap day of 2024 included;
// 2028-02-29 is further ahead than ingest takes), answers compared with plain loops over the readings, calendar
// buckets computed with Temporal (the engine uses luxon), across DST changes, a :30 zone, month ends, leap days,
// gaps, negatives, zero and a single-reading bucket, for every fill and for groupBy on tags; identical queries at
// once share one run. Then every 400 and the limits, the last ones on a second api process behind a slowed link to
// MongoDB.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Temporal } from '@js-temporal/polyfill';

import { pollUntil, Scrape } from '@funnel/dev-infra';

import { TcpProxy } from './faults/tcp-proxy.js';
import { prng } from './support/dataset.js';
import { isolatedEnv, ADMIN_AUTH } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson } from './support/http.js';
import { storedCount, tierTotals, withMongo } from './support/mongo.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The 400's message for a from/to past what a JavaScript Date holds. */
const outOfRange = (param: string) =>
  `${param} is out of range: an instant must lie within ±8,640,000,000,000,000 epoch ms ` +
  '(what a JavaScript Date holds: -271821-04-20T00:00:00Z to +275760-09-13T00:00:00Z)';

interface Reading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

type Values = Record<string, number | null>;
interface Answer {
  from: string;
  to: string;
  window: string;
  tz: string;
  fns: string[];
  groupBy: string[];
  series: Array<{ key: Record<string, string | null>; buckets: Array<{ start: string } & Values> }>;
  message?: string | string[];
}

// Readings every ~37 minutes (jittered) around each anchor, for three sensors and two metrics.
const ANCHORS = [
  '2026-01-31T12:00:00Z', // month end
  '2026-03-08T07:00:00Z', // America/New_York springs forward
  '2026-03-29T01:00:00Z', // Europe/Berlin springs forward
  '2026-04-30T20:00:00Z', // month end, Asia/Kolkata crosses it before UTC does
  '2026-10-25T01:00:00Z', // Europe/Berlin falls back
  '2026-11-01T06:00:00Z', // America/New_York falls back
];
const SENSORS: Array<{ id: string; tags?: Record<string, string> }> = [
  { id: 'q-north-1', tags: { site: 'north' } },
  { id: 'q-north-2', tags: { site: 'north', line: 'l1' } },
  { id: 'q-south-1', tags: { site: 'south' } },
  { id: 'q-bare' },
];
const METRICS = ['temp', 'hum'];

function makeReadings(): Reading[] {
  const rand = prng(20260329);
  const out: Reading[] = [];
  for (const anchor of ANCHORS) {
    const centre = Date.parse(anchor);
    for (const s of SENSORS) {
      for (const metric of METRICS) {
        for (let t = centre - 30 * HOUR; t < centre + 30 * HOUR; t += 37 * MINUTE) {
          if (rand() < 0.15) continue; // gaps
          const ts = t + Math.floor(rand() * 20 * MINUTE);
          const r = rand();
          // Negatives, zeros and two decimals.
          const value = r < 0.08 ? 0 : Math.round((rand() * 120 - 40) * 100) / 100;
          out.push({ sensorId: s.id, metric, value, ts, ...(s.tags ? { tags: s.tags } : {}) });
        }
      }
    }
  }
  // A lone reading, far from the others: a bucket of one.
  out.push({ sensorId: 'q-bare', metric: 'temp', value: -7.25, ts: Date.parse('2026-06-15T10:11:12.345Z') });
  // Two readings at the same instant: first/last break the tie by value.
  out.push({ sensorId: 'q-bare', metric: 'temp', value: 3, ts: Date.parse('2026-06-15T10:30:00Z') });
  out.push({ sensorId: 'q-bare', metric: 'temp', value: 5, ts: Date.parse('2026-06-15T10:30:00Z') });
  return out;
}

/** Readings around the leap day of 2024 (2028-02-29 is further ahead than ingest takes: calendar.spec covers it). */
function leapReadings(): Reading[] {
  const out: Reading[] = [];
  const start = Date.parse('2024-02-27T00:00:00Z');
  for (let i = 0; i < 120; i++) {
    out.push({ sensorId: 'q-leap', metric: 'temp', value: (i % 7) - 3, ts: start + i * 47 * MINUTE });
  }
  return out;
}

const READINGS = [...makeReadings(), ...leapReadings()];
const ALL = READINGS;

// ---- the oracle: plain loops over the readings; calendar buckets from Temporal ----

type Unit = 'minute' | 'hour' | 'day' | 'week' | 'month';
const UNITS: readonly string[] = ['minute', 'hour', 'day', 'week', 'month'];
const FIXED: Record<string, number> = { s: 1000, m: MINUTE, h: HOUR, d: 24 * HOUR };

/** Start of the bucket holding ts: epoch floor for fixed windows; the local calendar start of unit in tz. */
function oracleStart(ts: number, window: string, tz: string): number {
  if (!UNITS.includes(window)) {
    const width = Number(window.slice(0, -1)) * FIXED[window.slice(-1)];
    return Math.floor(ts / width) * width;
  }
  const zdt = Temporal.Instant.fromEpochMilliseconds(ts).toZonedDateTimeISO(tz);
  switch (window as Unit) {
    case 'minute':
      return zdt.round({ smallestUnit: 'minute', roundingMode: 'floor' }).epochMilliseconds;
    case 'hour':
      return zdt.round({ smallestUnit: 'hour', roundingMode: 'floor' }).epochMilliseconds;
    case 'day':
      return zdt.startOfDay().epochMilliseconds;
    case 'week':
      return zdt.subtract({ days: zdt.dayOfWeek - 1 }).startOfDay().epochMilliseconds;
    case 'month':
      return zdt.with({ day: 1 }).startOfDay().epochMilliseconds;
  }
}

/** Every bucket start overlapping [from, to): the distinct starts of instants sampled densely through it. */
function oracleStarts(from: number, to: number, window: string, tz: string): number[] {
  const fixed = UNITS.includes(window) ? undefined : Number(window.slice(0, -1)) * FIXED[window.slice(-1)];
  // Every bucket holds a sampled instant: fixed buckets are at least `step` wide, local hours and minutes at
  // least a minute, local days (23 h or more), weeks and months at least six hours.
  const step =
    fixed !== undefined ? Math.min(fixed, MINUTE) : window === 'minute' || window === 'hour' ? MINUTE : 6 * HOUR;
  const starts = new Set<number>();
  for (let t = from; t < to; t += step) starts.add(oracleStart(t, window, tz));
  starts.add(oracleStart(to - 1, window, tz));
  return [...starts].sort((a, b) => a - b);
}

function exactFn(fn: string, rs: Reading[]): number | null {
  const values = rs.map((r) => r.value);
  const sum = values.reduce((a, b) => a + b, 0);
  const byTime = [...rs].sort((a, b) => a.ts - b.ts || a.value - b.value);
  switch (fn) {
    case 'count':
      return rs.length;
    case 'sum':
      return sum;
    case 'avg':
      return sum / rs.length;
    case 'min':
      return Math.min(...values);
    case 'max':
      return Math.max(...values);
    case 'spread':
      return Math.max(...values) - Math.min(...values);
    case 'first':
      return byTime[0].value;
    case 'last': {
      const lastTs = byTime[byTime.length - 1].ts;
      return Math.max(...rs.filter((r) => r.ts === lastTs).map((r) => r.value));
    }
    case 'stddev': {
      if (rs.length < 2) return null;
      const mean = sum / rs.length;
      return Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (rs.length - 1));
    }
  }
  throw new Error(`oracle has no ${fn}`);
}

/** The exact values at the floor and ceiling of rank q·(n−1). */
function percentileRange(rs: Reading[], q: number): [number, number] {
  const sorted = rs.map((r) => r.value).sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  return [sorted[Math.floor(rank)], sorted[Math.ceil(rank)]];
}

interface Query {
  metric: string;
  from: string;
  to: string;
  window: string;
  tz?: string;
  fns?: string;
  groupBy?: string;
  fill?: string;
  sensorId?: string;
  sensorPrefix?: string;
  tags?: Record<string, string>;
}

interface OracleSeries {
  key: Record<string, string | null>;
  buckets: Array<{ start: number; readings: Reading[] }>;
}

function oracle(q: Query): { starts: number[]; series: OracleSeries[] } {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  const tz = q.tz ?? 'UTC';
  const groupBy = q.groupBy === 'none' ? [] : (q.groupBy ?? 'sensorId,metric').split(',');
  const metrics = q.metric.split(',');
  const sensors = q.sensorId?.split(',');
  const groups = new Map<string, { key: Record<string, string | null>; byStart: Map<number, Reading[]> }>();
  for (const r of ALL) {
    if (!metrics.includes(r.metric) || r.ts < from || r.ts >= to) continue;
    if (sensors && !sensors.includes(r.sensorId)) continue;
    if (q.sensorPrefix && !r.sensorId.startsWith(q.sensorPrefix)) continue;
    if (q.tags && Object.entries(q.tags).some(([k, v]) => r.tags?.[k] !== v)) continue;
    const key: Record<string, string | null> = {};
    for (const f of groupBy) {
      key[f] = f === 'sensorId' ? r.sensorId : f === 'metric' ? r.metric : (r.tags?.[f.slice(4)] ?? null);
    }
    const id = JSON.stringify(groupBy.map((f) => key[f]));
    if (!groups.has(id)) groups.set(id, { key, byStart: new Map() });
    const start = oracleStart(r.ts, q.window, tz);
    const g = groups.get(id)!;
    g.byStart.set(start, [...(g.byStart.get(start) ?? []), r]);
  }
  const cmp = (a: string | null, b: string | null) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  const series = [...groups.values()]
    .sort((a, b) => groupBy.reduce((c, f) => c || cmp(a.key[f], b.key[f]), 0))
    .map((g) => ({
      key: g.key,
      buckets: [...g.byStart.entries()].sort(([a], [b]) => a - b).map(([start, readings]) => ({ start, readings })),
    }));
  return { starts: oracleStarts(from, to, q.window, tz), series };
}

/** What the answer's buckets must be, per series, with fill applied by the oracle's own rules. */
function expectedBuckets(
  q: Query,
  fns: string[],
  { starts, series }: ReturnType<typeof oracle>,
): Array<{ key: Record<string, string | null>; buckets: Values[] }> {
  const fill = q.fill ?? 'none';
  return series.map((s) => {
    const computed = new Map(
      s.buckets.map((b) => [
        b.start,
        Object.fromEntries(fns.filter((f) => !f.startsWith('p')).map((f) => [f, exactFn(f, b.readings)])) as Values,
      ]),
    );
    const rows: Values[] = [];
    const timeline = fill === 'none' ? s.buckets.map((b) => b.start) : starts;
    for (const start of timeline) {
      const got = computed.get(start);
      if (got) {
        rows.push({ start, ...got });
        continue;
      }
      const empty: Values = { start, count: 0 };
      const before = [...computed.keys()].filter((t) => t < start).at(-1);
      const after = [...computed.keys()].find((t) => t > start);
      for (const f of fns.filter((f) => f !== 'count' && !f.startsWith('p'))) {
        if (fill === 'null') empty[f] = null;
        else if (fill === 'zero') empty[f] = 0;
        else if (fill === 'previous') empty[f] = before === undefined ? null : computed.get(before)![f];
        else {
          const [a, b] = [before, after];
          const [va, vb] = [a === undefined ? null : computed.get(a)![f], b === undefined ? null : computed.get(b)![f]];
          empty[f] = va === null || vb === null ? null : va + ((vb - va) * (start - a!)) / (b! - a!);
        }
      }
      rows.push(empty);
    }
    return { key: s.key, buckets: rows };
  });
}

function close(got: number | null | undefined, want: number | null, what: string): void {
  if (want === null || got === null || got === undefined) {
    expect({ what, got }).toEqual({ what, got: want });
    return;
  }
  const tolerance = 1e-9 * Math.max(1, Math.abs(want));
  if (Math.abs(got - want) > tolerance) expect({ what, got }).toEqual({ what, got: want });
}

/** Checks an answer against the oracle: exact functions exactly (floats to rounding), percentiles within 1 %. */
function expectOracle(answer: Answer, q: Query): void {
  const fns = answer.fns;
  const computed = oracle(q);
  const want = expectedBuckets(q, fns, computed);
  expect(answer.series.map((s) => s.key)).toEqual(want.map((s) => s.key));
  const raw = computed.series;
  answer.series.forEach((s, i) => {
    expect(s.buckets.map((b) => b.start)).toEqual(want[i].buckets.map((b) => new Date(b.start!).toISOString()));
    s.buckets.forEach((b, j) => {
      const w = want[i].buckets[j];
      const what = `${JSON.stringify(s.key)} ${b.start}`;
      for (const f of ['count', 'min', 'max', 'first', 'last'].filter((f) => fns.includes(f))) {
        expect({ what, f, v: b[f] }).toEqual({ what, f, v: w[f] });
      }
      for (const f of ['sum', 'avg', 'spread', 'stddev'].filter((f) => fns.includes(f)))
        close(b[f], w[f], `${what} ${f}`);
      for (const f of fns.filter((f) => f.startsWith('p'))) {
        const readings = raw[i].buckets.find((rb) => rb.start === Date.parse(b.start))?.readings;
        if (!readings) continue; // a filled bucket: checked against its neighbours below
        const [lo, hi] = percentileRange(readings, Number(f.slice(1)) / 100);
        const v = b[f] as number;
        const ok = v >= Math.min(lo, hi) - 0.01 * Math.abs(lo) && v <= Math.max(lo, hi) + 0.01 * Math.abs(hi);
        expect({ what, f, v, ok }).toEqual({ what, f, v, ok: true });
      }
    });
  });
}

function qs(q: Query & { format?: string }): string {
  const { tags, ...rest } = q;
  const params = new URLSearchParams(rest as Record<string, string>);
  for (const [k, v] of Object.entries(tags ?? {})) params.set(`tag.${k}`, v);
  return params.toString();
}

describe('GET /v2/aggregates against an independent oracle', () => {
  const env = isolatedEnv('query-v2');
  let funnel: FunnelProcess;
  const ask = async (q: Query & { format?: string }) => getJson<Answer>(`${funnel.url}/v2/aggregates?${qs(q)}`);

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', env)).start();
    await funnel.waitReady();
    for (let i = 0; i < READINGS.length; i += 1000) {
      const batch = READINGS.slice(i, i + 1000);
      const res = await postJson(`${funnel.url}/v1/points`, batch);
      expect(res).toMatchObject({ status: 202, json: { accepted: batch.length } });
    }
    await pollUntil('every reading stored', async () => (await storedCount(env.MONGODB_URI)) >= READINGS.length, {
      timeoutMs: 60_000,
    });
  }, 120_000);

  afterAll(async () => {
    await funnel?.stop();
  }, 40_000);

  const ALL_FNS = 'count,sum,avg,min,max,first,last,spread,stddev,p50,p95,p99.9';
  const cases: Array<[string, Query]> = [
    [
      'local days in Berlin across the spring change (23 h), every function',
      {
        metric: 'temp',
        from: '2026-03-27T00:00:00Z',
        to: '2026-03-31T00:00:00Z',
        window: 'day',
        tz: 'Europe/Berlin',
        fns: ALL_FNS,
      },
    ],
    [
      'local days in Berlin across the autumn change (25 h), fill null, groupBy tag.site',
      {
        metric: 'temp,hum',
        from: '2026-10-23T00:00:00Z',
        to: '2026-10-28T00:00:00Z',
        window: 'day',
        tz: 'Europe/Berlin',
        fns: 'count,avg,p95,stddev',
        groupBy: 'tag.site',
        fill: 'null',
      },
    ],
    [
      'hours in New York across the spring change, fill linear',
      {
        metric: 'hum',
        sensorId: 'q-north-1,q-bare',
        from: '2026-03-07T20:00:00Z',
        to: '2026-03-09T02:00:00Z',
        window: 'hour',
        tz: 'America/New_York',
        fns: 'count,avg,min,max,first,last',
        fill: 'linear',
      },
    ],
    [
      'hours in Berlin across the autumn change (the repeated hour is two buckets), fill previous',
      {
        metric: 'temp',
        sensorId: 'q-south-1',
        from: '2026-10-24T22:00:00Z',
        to: '2026-10-25T06:00:00Z',
        window: 'hour',
        tz: 'Europe/Berlin',
        fill: 'previous',
      },
    ],
    [
      'local days in New York across the autumn change, fill previous, groupBy metric',
      {
        metric: 'temp,hum',
        from: '2026-10-30T00:00:00Z',
        to: '2026-11-03T00:00:00Z',
        window: 'day',
        tz: 'America/New_York',
        fns: 'count,sum,spread,last',
        groupBy: 'metric',
        fill: 'previous',
      },
    ],
    [
      'hours in Kolkata (:30 offset) over a month end, fill zero, groupBy none',
      {
        metric: 'temp',
        from: '2026-04-30T10:00:00Z',
        to: '2026-05-01T12:00:00Z',
        window: 'hour',
        tz: 'Asia/Kolkata',
        fns: 'count,avg,max,p50',
        groupBy: 'none',
        fill: 'zero',
      },
    ],
    [
      'local days in Kolkata over a month end, tag filter and prefix',
      {
        metric: 'temp',
        sensorPrefix: 'q-north',
        tags: { site: 'north' },
        from: '2026-04-29T00:00:00Z',
        to: '2026-05-03T00:00:00Z',
        window: 'day',
        tz: 'Asia/Kolkata',
        groupBy: 'sensorId,tag.line',
      },
    ],
    [
      'ISO weeks (from Monday) in Berlin, over the whole year with gaps, fill linear',
      {
        metric: 'temp',
        sensorId: 'q-bare',
        from: '2026-01-01T00:00:00Z',
        to: '2026-12-01T00:00:00Z',
        window: 'week',
        tz: 'Europe/Berlin',
        fns: 'count,avg,min',
        fill: 'linear',
      },
    ],
    [
      'months in Berlin over the year (a single-reading bucket in June and tied timestamps)',
      {
        metric: 'temp',
        sensorId: 'q-bare',
        from: '2026-01-01T00:00:00Z',
        to: '2027-01-01T00:00:00Z',
        window: 'month',
        tz: 'Europe/Berlin',
        fns: ALL_FNS,
      },
    ],
    [
      'UTC days over the 2024 leap day, fill null',
      {
        metric: 'temp',
        from: '2024-02-26T00:00:00Z',
        to: '2024-03-03T00:00:00Z',
        window: 'day',
        fns: 'count,sum,min,max,stddev',
        fill: 'null',
      },
    ],
    [
      'months in New York over February 2024 (29 days)',
      {
        metric: 'temp',
        sensorId: 'q-leap',
        from: '2024-01-15T00:00:00Z',
        to: '2024-04-01T00:00:00Z',
        window: 'month',
        tz: 'America/New_York',
      },
    ],
    [
      'fixed 6h windows (epoch-aligned whatever tz says) over an unaligned range',
      {
        metric: 'hum',
        from: '2026-03-28T03:17:11.500Z',
        to: '2026-03-30T01:02:03Z',
        window: '6h',
        tz: 'Asia/Kolkata',
        fns: 'count,avg,first,last',
      },
    ],
    [
      'sub-minute windows over an unaligned range, fill zero',
      {
        metric: 'temp',
        sensorId: 'q-north-2',
        from: '2026-03-29T00:00:07.250Z',
        to: '2026-03-29T03:00:00Z',
        window: '30s',
        fill: 'zero',
        fns: 'count,sum',
      },
    ],
  ];

  it.each(cases)(
    '%s',
    async (_label, q) => {
      const res = await ask(q);
      expect({ status: res.status, message: res.json.message }).toEqual({ status: 200, message: undefined });
      expect(res.json).toMatchObject({
        from: new Date(q.from).toISOString(),
        to: new Date(q.to).toISOString(),
        window: q.window,
        tz: q.tz ?? 'UTC',
      });
      expect(res.json.series.length).toBeGreaterThan(0);
      expectOracle(res.json, q);
    },
    30_000,
  );

  it('runs identical queries in flight once (QUERY_COALESCE): every caller gets the oracle’s answer', async () => {
    // Answers compared to the last digit: runs apart from one another while compaction moves readings between tiers
    // could sum them in another grouping (as the CSV test below notes).
    await pollUntil(
      'compaction and roll-ups done',
      async () => withMongo(env.MONGODB_URI, tierTotals).then((t) => t.slices === 0 && t.marks === 0),
      { timeoutMs: 60_000 },
    );
    // Every series over the whole year in Berlin months: one of the slower reads here, so the others arrive meanwhile.
    const q: Query = {
      metric: 'temp,hum',
      from: '2026-01-01T00:00:00Z',
      to: '2027-01-01T00:00:00Z',
      window: 'month',
      tz: 'Europe/Berlin',
      fns: ALL_FNS,
    };
    const SENT = 8;
    const before = await Scrape.of(`${funnel.url}/metrics`);
    const answers = await Promise.all(Array.from({ length: SENT }, () => ask(q)));
    const after = await Scrape.of(`${funnel.url}/metrics`);
    expect(answers.map((a) => a.status)).toEqual(Array(SENT).fill(200));
    for (const a of answers.slice(1)) expect(a.json).toEqual(answers[0]!.json);
    expect(answers[0]!.json.series.length).toBeGreaterThan(0);
    expectOracle(answers[0]!.json, q);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    const joined = delta('funnel_query_coalesced_total');
    expect(joined).toBeGreaterThanOrEqual(1);
    // A query that joined took no slot: the gate admitted only the runs, one fewer per query that joined one.
    expect(delta('funnel_query_queue_wait_seconds_count', { outcome: 'admitted' })).toBe(SENT - joined);
  }, 90_000);

  it('answers whole-minute windows and sub-minute windows that agree', async () => {
    const q = { metric: 'temp', from: '2026-10-24T20:00:30Z', to: '2026-10-25T08:00:00Z', fns: 'count,sum,min,max' };
    const minutes = (await ask({ ...q, window: 'minute' })).json;
    const halves = (await ask({ ...q, window: '30s' })).json;
    const merged = halves.series.map((s) => {
      const byMinute = new Map<string, Values>();
      for (const b of s.buckets) {
        const start = new Date(Math.floor(Date.parse(b.start) / MINUTE) * MINUTE).toISOString();
        const m = byMinute.get(start);
        if (!m) byMinute.set(start, { count: b.count, sum: b.sum, min: b.min, max: b.max });
        else
          byMinute.set(start, {
            count: m.count! + b.count!,
            sum: m.sum! + b.sum!,
            min: Math.min(m.min!, b.min!),
            max: Math.max(m.max!, b.max!),
          });
      }
      return {
        key: s.key,
        buckets: [...byMinute].map(
          ([start, v]) => ({ start, ...v }) as { start: string; count: number; sum: number; min: number; max: number },
        ),
      };
    });
    expect(minutes.series.map((s) => s.key)).toEqual(merged.map((s) => s.key));
    minutes.series.forEach((s, i) => {
      expect(s.buckets.map((b) => [b.start, b.count, b.min, b.max])).toEqual(
        merged[i].buckets.map((b) => [b.start, b.count, b.min, b.max]),
      );
      s.buckets.forEach((b, j) => close(b.sum, merged[i].buckets[j].sum, `sum ${b.start}`));
    });
  });

  it('answers CSV for Accept: text/csv and for format=csv, row for row the JSON answer', async () => {
    // Compared to the last digit: two answers read while compaction moves readings from slices to minutes (or a
    // roll-up from hours to a day) sum the same readings in another grouping, which may differ in the last bit.
    await pollUntil(
      'compaction and roll-ups done',
      async () => withMongo(env.MONGODB_URI, tierTotals).then((t) => t.slices === 0 && t.marks === 0),
      { timeoutMs: 60_000 },
    );
    const q = {
      metric: 'temp,hum',
      from: '2026-03-28T00:00:00Z',
      to: '2026-03-30T00:00:00Z',
      window: 'day',
      tz: 'Europe/Berlin',
      fns: 'count,avg,stddev',
      groupBy: 'tag.site,metric',
      fill: 'null',
    };
    const json = (await ask(q)).json;
    const viaAccept = await fetch(`${funnel.url}/v2/aggregates?${qs(q)}`, {
      headers: { ...ADMIN_AUTH, accept: 'text/csv' },
    });
    const viaFormat = await fetch(`${funnel.url}/v2/aggregates?${qs({ ...q, format: 'csv' })}`, {
      headers: ADMIN_AUTH,
    });
    const [a, b] = [await viaAccept.text(), await viaFormat.text()];
    expect(viaAccept.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(a).toBe(b);
    const lines = a.trimEnd().split('\r\n');
    expect(lines[0]).toBe('start,tag.site,metric,count,avg,stddev');
    const rows = json.series.flatMap((s) =>
      s.buckets.map((bk) =>
        [bk.start, s.key['tag.site'] ?? '', s.key.metric, bk.count, bk.avg ?? '', bk.stddev ?? ''].join(','),
      ),
    );
    expect(lines.slice(1)).toEqual(rows);
    expect(rows.some((r) => r.split(',')[1] === '')).toBe(true); // the series without a site tag: an empty key field
  }, 90_000);

  it('keeps v1 answering one series from the same engine', async () => {
    const res = await getJson<{ buckets: Array<Record<string, number | string>> }>(
      `${funnel.url}/v1/aggregates?sensorId=q-north-2&metric=temp&from=2026-03-28T00:00:00Z&to=2026-03-30T00:00:00Z&window=6h`,
    );
    const v2 = await ask({
      metric: 'temp',
      sensorId: 'q-north-2',
      from: '2026-03-28T00:00:00Z',
      to: '2026-03-30T00:00:00Z',
      window: '6h',
      groupBy: 'none',
    });
    expect(res.status).toBe(200);
    expect(res.json.buckets).toEqual(v2.json.series[0].buckets);
    expect(Object.keys(res.json.buckets[0])).toEqual(['start', 'count', 'avg', 'min', 'max', 'sum']);
  });

  it('lists the series of the catalog page by page, with exact counts once compacted', async () => {
    const want = new Map<string, { count: number; first: number; last: number }>();
    for (const r of READINGS.filter((r) => r.metric === 'temp')) {
      const key = JSON.stringify([r.sensorId, r.tags ?? {}]);
      const w = want.get(key) ?? { count: 0, first: Infinity, last: -Infinity };
      want.set(key, { count: w.count + 1, first: Math.min(w.first, r.ts), last: Math.max(w.last, r.ts) });
    }
    type Page = {
      series: Array<{
        sensorId: string;
        metric: string;
        tags: Record<string, string>;
        firstTs: string;
        lastTs: string;
        count: number;
      }>;
      next?: string;
    };
    const all = async () => {
      const listed: Page['series'] = [];
      let cursor: string | undefined;
      do {
        const res = await getJson<Page>(
          `${funnel.url}/v1/series?metric=temp&sensorPrefix=q-&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        expect(res.json.series.length).toBeLessThanOrEqual(1);
        listed.push(...res.json.series);
        cursor = res.json.next;
      } while (cursor);
      return listed;
    };
    await pollUntil(
      'the catalog counts every reading',
      async () => {
        const listed = await all();
        return (
          listed.length === want.size &&
          listed.every((s) => want.get(JSON.stringify([s.sensorId, s.tags]))?.count === s.count)
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const s of await all()) {
      const w = want.get(JSON.stringify([s.sensorId, s.tags]))!;
      expect([s.metric, s.firstTs, s.lastTs]).toEqual([
        'temp',
        new Date(w.first).toISOString(),
        new Date(w.last).toISOString(),
      ]);
    }
    const north = await getJson<Page>(`${funnel.url}/v1/series?tag.site=north&metric=temp`);
    expect(north.json.series.map((s) => s.sensorId).sort()).toEqual(['q-north-1', 'q-north-2']);
    const bad = await getJson<Answer>(`${funnel.url}/v1/series?limit=0`);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toContain('limit');
  }, 90_000);

  it('exports the raw readings of one series in time order, NDJSON page by page and CSV', async () => {
    const [from, to] = ['2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'];
    const want = READINGS.filter(
      (r) => r.sensorId === 'q-north-2' && r.metric === 'hum' && r.ts >= Date.parse(from) && r.ts < Date.parse(to),
    )
      .map((r) => [r.ts, r.value])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(want.length).toBeGreaterThan(50);
    const got: number[][] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await fetch(
        `${funnel.url}/v1/points?sensorId=q-north-2&metric=hum&from=${from}&to=${to}&limit=25${cursor ? `&cursor=${cursor}` : ''}`,
        { headers: { ...ADMIN_AUTH, accept: 'application/x-ndjson' } },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
      const lines = (await res.text())
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { ts: string; value: number; sensorId: string; tags: Record<string, string> });
      expect(lines.length).toBeLessThanOrEqual(25);
      for (const l of lines) {
        expect([l.sensorId, l.tags]).toEqual(['q-north-2', { site: 'north', line: 'l1' }]);
        got.push([Date.parse(l.ts), l.value]);
      }
      cursor = res.headers.get('x-next-cursor');
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(want.length / 25));
    for (let i = 1; i < got.length; i++) expect(got[i][0]).toBeGreaterThanOrEqual(got[i - 1][0]); // time order
    expect([...got].sort((a, b) => a[0] - b[0] || a[1] - b[1])).toEqual(want);
    const csv = await (
      await fetch(`${funnel.url}/v1/points?sensorId=q-north-2&metric=hum&from=${from}&to=${to}&format=csv`, {
        headers: ADMIN_AUTH,
      })
    ).text();
    const rows = csv.trimEnd().split('\r\n');
    expect(rows[0]).toBe('ts,sensorId,metric,value,id,tags');
    expect(rows.length - 1).toBe(want.length);
    expect(rows[1].split(',').slice(1, 3)).toEqual(['q-north-2', 'hum']);
    const bad = await getJson<Answer>(
      `${funnel.url}/v1/points?sensorId=q-north-2&metric=hum&from=${from}&to=${to}&cursor=nonsense`,
    );
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json.message)).toContain('cursor');
    const far = await getJson<Answer>(
      `${funnel.url}/v1/points?sensorId=q-north-2&metric=hum&from=-8640000000000001&to=8640000000000001`,
    );
    expect(far.status).toBe(400);
    expect(far.json.message).toEqual([outOfRange('from'), outOfRange('to')]);
  });

  const base = { metric: 'temp', from: '2026-03-28T00:00:00Z', to: '2026-03-29T00:00:00Z', window: 'hour' };
  it.each<[string, Record<string, string>, string]>([
    ['an unknown tz', { tz: 'Mars/Olympus' }, 'tz'],
    ['an unknown function', { fns: 'count,median' }, 'fns'],
    ['p0', { fns: 'p0' }, 'fns'],
    ['p101', { fns: 'p101' }, 'fns'],
    ['an unknown window', { window: 'fortnight' }, 'window'],
    ['an unknown fill mode', { fill: 'spline' }, 'fill'],
    ['an unknown groupBy field', { groupBy: 'sensorId,value' }, 'groupBy'],
    ['none beside other groupBy fields', { groupBy: 'none,metric' }, 'groupBy'],
    ['from after to', { from: '2026-03-29T00:00:00Z', to: '2026-03-28T00:00:00Z' }, 'from'],
    ['from past what a Date holds', { from: '8640000000000001' }, 'from'],
    ['to past what a Date holds', { to: '8640000000000001' }, 'to'],
    ['a missing metric', { metric: '' }, 'metric'],
    ['an unknown parameter', { colour: 'red' }, 'colour'],
    ['a bad tag key', { 'tag.bad key': 'x' }, 'tag.bad key'],
    ['an unknown format', { format: 'xml' }, 'format'],
  ])('refuses %s with a 400 naming the parameter', async (_label, change, param) => {
    const q = { ...base, ...change };
    if (q.metric === '') delete (q as Partial<typeof q>).metric;
    const res = await getJson<Answer>(`${funnel.url}/v2/aggregates?${new URLSearchParams(q)}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json.message)).toContain(param);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['from past the range', { from: '8640000000000001', to: '8640000000000002' }, ['from', 'to']],
    ['from past the negative bound', { from: '-8640000000000001' }, ['from']],
    ['to past the range', { to: '8640000000000001' }, ['to']],
    ['to past the negative bound', { from: '0', to: '-8640000000000001' }, ['to']],
    ['both past the negative bound', { from: '-8640000000000003', to: '-8640000000000001' }, ['from', 'to']],
  ])('says %s is out of range, naming the parameter and the range', async (_label, change, params) => {
    const res = await getJson<Answer>(`${funnel.url}/v2/aggregates?${new URLSearchParams({ ...base, ...change })}`);
    expect(res.status).toBe(400);
    expect(res.json.message).toEqual(params.map(outOfRange));
  });
});

/** Latency each way on the link to MongoDB while a query should hold the only slot: a round trip takes 16 s. */
const SLOW_MS = 8000;
/**
 * How long a query may wait for the slot: longer than a query holding it takes once the link is made fast again
 * QUERY_TIMEOUT_MS after it began (its bytes already on the slow link arrive SLOW_MS after they were sent: at most
 * 9.5 s), shorter than one round trip on the slow link (2 x SLOW_MS).
 */
const QUEUE_WAIT_MS = 12_500;

describe('GET /v2/aggregates limits (an api process with small limits, MongoDB behind a proxy)', () => {
  const env = isolatedEnv('query-v2-limits');
  const mongo = new URL(env.MONGODB_URI);
  const proxy = new TcpProxy('mongodb', { host: mongo.hostname, port: Number(mongo.port) });
  let api: FunnelProcess;
  const url = (q: Record<string, string>) => `${api.url}/v2/aggregates?${new URLSearchParams(q)}`;
  const day = {
    metric: 'temp',
    from: '2026-03-28T00:00:00Z',
    to: '2026-03-29T00:00:00Z',
    groupBy: 'sensorId,metric,tag.site',
  };

  beforeAll(async () => {
    const port = await proxy.start();
    mongo.port = String(port);
    api = (
      await FunnelProcess.onFreePort('all', {
        ...env,
        MONGODB_URI: mongo.toString(),
        MAX_SERIES_PER_QUERY: '2',
        MAX_POINTS_PER_QUERY: '5000',
        MAX_RAW_READINGS_PER_QUERY: '50',
        MAX_CONCURRENT_QUERIES: '1',
        MAX_QUEUED_QUERIES: '1',
        QUERY_QUEUE_WAIT_MS: String(QUEUE_WAIT_MS),
        QUERY_TIMEOUT_MS: '1500',
        // These tests fill the slot and the queue with identical queries: coalesced, they would share one run.
        QUERY_COALESCE: 'false',
        // The token's lookup is cached for the whole describe: on the slowed link it would hold a query up before the gate.
        AUTH_CACHE_TTL_MS: '300000',
      })
    ).start();
    await api.waitReady();
    const readings: Reading[] = [];
    // 45 readings on 2026-03-28 (three series), 20 more on 2026-03-27: a scan of both days exceeds 50.
    for (const [sensorId, day, n] of [
      ['l-1', '28', 15],
      ['l-2', '28', 15],
      ['l-3', '28', 15],
      ['l-4', '27', 20],
    ] as const) {
      for (let i = 0; i < n; i++) {
        readings.push({
          sensorId,
          metric: 'temp',
          value: i,
          ts: Date.parse(`2026-03-${day}T00:00:00Z`) + i * HOUR,
          tags: { site: sensorId },
        });
      }
    }
    expect((await postJson(`${api.url}/v1/points`, readings)).status).toBe(202);
    await pollUntil('stored', async () => (await storedCount(env.MONGODB_URI)) >= readings.length, {
      timeoutMs: 60_000,
    });
  }, 90_000);

  afterAll(async () => {
    proxy.slow({});
    await api?.stop();
    await proxy.close();
  }, 40_000);

  it('refuses more series than MAX_SERIES_PER_QUERY, and more raw readings than MAX_RAW_READINGS_PER_QUERY', async () => {
    const series = await getJson<Answer>(url({ ...day, window: 'day' }));
    expect(series.status).toBe(400);
    expect(series.json.message).toContain('MAX_SERIES_PER_QUERY');
    const scan = await getJson<Answer>(
      // A sub-minute window reads raw readings only: 65 of them over both days.
      url({ ...day, window: '59s', from: '2026-03-27T00:00:00Z', to: '2026-03-29T00:00:00Z', groupBy: 'none' }),
    );
    expect(scan.status).toBe(400);
    // 65 match; the count stops at 51 (limit + 1), so the message says "more than 50", never a number it did not count.
    expect(scan.json.message).toBe(
      'the query would scan more than 50 raw readings: ask for a window of whole minutes so the rollups answer it, ' +
        'a shorter range, or fewer series (MAX_RAW_READINGS_PER_QUERY)',
    );
    const ok = await getJson<Answer>(url({ ...day, window: 'day', groupBy: 'none' }));
    expect(ok.status).toBe(200);
    expect(ok.json.series[0].buckets[0].count).toBe(45);
  });

  /** The api's slot and queue gauges. */
  const gate = async () => {
    const scrape = await Scrape.of(`${api.url}/metrics`);
    return { running: scrape.value('funnel_queries_running'), queued: scrape.value('funnel_queries_queued') };
  };
  const dayTotal = () => getJson<Answer>(url({ ...day, window: 'day', groupBy: 'none' }));
  /** Waits until the slot is held and `queued` queries wait for it. */
  const untilGate = (queued: number) =>
    pollUntil(
      `the slot held and ${queued} waiting`,
      async () => {
        const now = await gate();
        if (now.running === 1 && now.queued === queued) return true;
        throw new Error(`running ${now.running}, queued ${now.queued}`);
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );

  it('refuses too many series x buckets before touching MongoDB, queues, sheds load and times out with 503 + Retry-After', async () => {
    proxy.slow({ latencyMs: SLOW_MS }); // every MongoDB round trip now takes 2 x SLOW_MS
    try {
      const points = await getJson<Answer>(url({ ...day, window: 'minute', from: '2026-03-20T00:00:00Z' }));
      expect(points.status).toBe(400); // a query that touched MongoDB could not answer before the timeout
      expect(points.json.message).toContain('MAX_POINTS_PER_QUERY');
      const slow = dayTotal();
      await untilGate(0);
      // The slot is held: the next query waits for it (MAX_QUEUED_QUERIES is 1) ...
      const queued = dayTotal();
      await untilGate(1);
      // ... and one more is refused at once, naming the limits.
      const busy = await dayTotal();
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(busy.json.message).toContain('MAX_CONCURRENT_QUERIES');
      expect(busy.json.message).toContain('MAX_QUEUED_QUERIES');
      const timedOut = await slow;
      expect(timedOut.status).toBe(503);
      expect(timedOut.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(timedOut.json.message).toContain('QUERY_TIMEOUT_MS');
      // The slow query's reads end within SLOW_MS once the link is fast, inside the queued query's wait; its own
      // run is then fast: answered though it waited longer than QUERY_TIMEOUT_MS, which counts the run only.
      proxy.slow({});
      const answered = await queued;
      expect(answered.status).toBe(200);
      expect(answered.json.series[0]!.buckets[0]!.count).toBe(45);
      const scrape = await Scrape.of(`${api.url}/metrics`);
      expect(scrape.value('funnel_queries_refused_total', { reason: 'queue_full' })).toBe(1);
      expect(scrape.value('funnel_queries_refused_total', { reason: 'timeout' })).toBe(1);
      // The queued query's wait: from its arrival to the slow query's end, past QUERY_TIMEOUT_MS (1.5 s).
      expect(scrape.value('funnel_query_queue_wait_seconds_sum', { outcome: 'admitted' })).toBeGreaterThan(1.5);
    } finally {
      proxy.slow({});
    }
  }, 60_000);

  it('answers 503 + Retry-After naming QUERY_QUEUE_WAIT_MS to a query that waited that long for the slot', async () => {
    proxy.slow({ latencyMs: SLOW_MS }); // the slot is held for at least one round trip: 2 x SLOW_MS > QUEUE_WAIT_MS
    try {
      const slow = dayTotal();
      await untilGate(0);
      const waited = await dayTotal();
      expect(waited.status).toBe(503);
      expect(waited.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(waited.json.message).toContain(`QUERY_QUEUE_WAIT_MS (${QUEUE_WAIT_MS} ms)`);
      expect((await gate()).queued).toBe(0);
      proxy.slow({});
      expect((await slow).status).toBe(503); // past QUERY_TIMEOUT_MS on the slow link
      const scrape = await Scrape.of(`${api.url}/metrics`);
      expect(scrape.value('funnel_queries_refused_total', { reason: 'wait_exceeded' })).toBe(1);
      expect(scrape.value('funnel_query_queue_wait_seconds_count', { outcome: 'wait_exceeded' })).toBe(1);
      // Once the slow query's reads end, the slot serves the next query again.
      await pollUntil('the slot free', async () => (await gate()).running === 0, { timeoutMs: 30_000 });
      expect((await dayTotal()).status).toBe(200);
    } finally {
      proxy.slow({});
    }
  }, 60_000);
});
