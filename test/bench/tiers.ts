// The rollup tiers' bench stage: a year of one series answered from day and hour documents against the raw-readings
// pipeline, then 1,000 series for a day: minute documents per series-minute and bytes per reading in each tier.
import { BSON, type Db } from 'mongodb';

import { pollUntil, Scrape, sleep } from '@funnel/dev-infra';
import { bucketsPipeline, DAY_MS, HOUR_MS, MINUTE_MS } from '@funnel/storage';

import type { FunnelNode } from '../faults/funnel-node.js';
import { ADMIN_AUTH } from '../support/env.js';
import { median } from './tools.js';

/** How much of it: the issue's sizes in full mode; --quick and --smoke take fewer days and minutes. */
export interface TiersPlan {
  /** Days of one reading a minute for the single series (the issue: 365). */
  yearDays: number;
  /** Series of the fleet (the issue: 1,000, 10 values of `site`). */
  fleetSeries: number;
  /** Minutes of one reading each per fleet series (the issue: 1,440). */
  fleetMinutes: number;
  reps: number;
  settleS: number;
}

export const TIERS_PLAN: Record<'smoke' | 'quick' | 'full', TiersPlan> = {
  smoke: { yearDays: 3, fleetSeries: 1000, fleetMinutes: 2, reps: 1, settleS: 120 },
  quick: { yearDays: 92, fleetSeries: 1000, fleetMinutes: 120, reps: 3, settleS: 600 },
  full: { yearDays: 365, fleetSeries: 1000, fleetMinutes: 1440, reps: 5, settleS: 1500 },
};

export interface TiersFigures {
  yearDays: number;
  yearReadings: number;
  dayFunnelMs: number;
  dayRawMs: number;
  /** Day documents of the range (what the day answer reads) and readings the raw pipeline scans for it. */
  dayDocs: number;
  monthDays: number;
  hourFunnelMs: number;
  hourRawMs: number;
  hourDocs: number;
  monthReadings: number;
  /** From the draining worker's start until every reading was in the day tier with no slice or mark left. */
  yearSettleS: number;
  /** The worker's flush rate (readings written ÷ time in flushes) while draining the year, compaction running. */
  flushDocsPerSec: number;
  fleetSeries: number;
  fleetReadings: number;
  fleetMinuteDocs: number;
  /** Series-minutes with data (every fleet series has a reading in each of its minutes). */
  fleetSeriesMinutes: number;
  /** Sum of BSON sizes of each collection's documents ÷ readings. */
  bytesPerReading: { raw: number; minute: number; hour: number; day: number };
}

/** What the stage needs of the bench: a fresh api and worker on a topic and database of their own. */
export interface TiersHost {
  start(name: string, role: 'api' | 'worker', part: 'year' | 'fleet'): Promise<FunnelNode>;
  stop(node: FunnelNode): Promise<void>;
  db(part: 'year' | 'fleet'): Db;
  log(line: string): void;
}

export interface Reading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

interface Bucket {
  start: string;
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Quarter values in [-40, 40]: every sum is exact in binary floating point, so answers compare exactly. */
export const valueAt = (i: number) => (((i * 37) % 321) - 160) / 4;
const POST_BODY = 5000;
const POSTERS = 4;

export async function ingest(url: string, total: number, readingAt: (i: number) => Reading): Promise<void> {
  let next = 0;
  const poster = async () => {
    while (next < total) {
      const from = next;
      next = Math.min(total, next + POST_BODY);
      const body = JSON.stringify(Array.from({ length: next - from }, (_, k) => readingAt(from + k)));
      const res = await fetch(`${url}/v1/points`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
        body,
      });
      if (res.status !== 202) throw new Error(`tiers POST answered ${res.status}: ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: POSTERS }, poster));
}

/** Waits until no slice or dirty mark is left and the hour and day tiers each hold every reading. */
export async function settle(db: Db, readings: number, timeoutS: number): Promise<void> {
  // A $group on the server: toArray over 100,000+ documents overflowed the driver's stack.
  const sumN = async (collection: string) => {
    const [row] = await db
      .collection(collection)
      .aggregate<{ n: unknown }>([{ $group: { _id: null, n: { $sum: { $ifNull: ['$n', 1] } } } }])
      .toArray();
    return Number(row?.n ?? 0);
  };
  await pollUntil(
    `the tiers to hold all ${readings} readings`,
    async () => {
      if ((await sumN('points_d1')) !== readings || (await sumN('points_h1')) !== readings) return false;
      return (
        (await db.collection('points_slices').countDocuments()) === 0 &&
        (await db.collection('points_dirty').countDocuments()) === 0
      );
    },
    { timeoutMs: timeoutS * 1000, intervalMs: 5000 },
  );
  const minuteN = await sumN('points_m1');
  if (minuteN !== readings) throw new Error(`the minute tier holds ${minuteN} readings, expected ${readings}`);
}

/** Per bucket start, count, sum, min and max of `readings` (the bench's own calculation). */
function expectedBuckets(readings: Iterable<Reading>, binMs: number): Map<number, Omit<Bucket, 'start'>> {
  return expectedBy(readings, (ts) => ts - (ts % binMs));
}

/** Per key of each reading's timestamp, count, sum, min and max of `readings` (the bench's own calculation). */
export function expectedBy<K>(readings: Iterable<Reading>, keyOf: (ts: number) => K): Map<K, Omit<Bucket, 'start'>> {
  const out = new Map<K, Omit<Bucket, 'start'>>();
  for (const r of readings) {
    const start = keyOf(r.ts);
    const b = out.get(start);
    if (!b) out.set(start, { count: 1, sum: r.value, min: r.value, max: r.value });
    else {
      b.count++;
      b.sum += r.value;
      b.min = Math.min(b.min, r.value);
      b.max = Math.max(b.max, r.value);
    }
  }
  return out;
}

function checkAnswer(what: string, buckets: Bucket[], expected: Map<number, Omit<Bucket, 'start'>>): void {
  const got = buckets.filter((b) => b.count > 0);
  if (got.length !== expected.size) throw new Error(`${what}: ${got.length} buckets, expected ${expected.size}`);
  for (const b of got) {
    const e = expected.get(Date.parse(b.start));
    if (!e || e.count !== b.count || e.sum !== b.sum || e.min !== b.min || e.max !== b.max)
      throw new Error(`${what}: bucket ${b.start} is ${JSON.stringify(b)}, expected ${JSON.stringify(e)}`);
  }
}

export async function timedMs(reps: number, run: () => Promise<void>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Sum of the BSON sizes of a collection's documents. */
async function bsonBytes(db: Db, collection: string): Promise<number> {
  let bytes = 0;
  for await (const doc of db.collection(collection).find({})) bytes += BSON.calculateObjectSize(doc);
  return bytes;
}

export async function tiersStage(host: TiersHost, plan: TiersPlan, rid: string): Promise<TiersFigures> {
  // ---- One series, one reading a minute for plan.yearDays days ending at the start of yesterday (UTC).
  const yearTo = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const yearFrom = yearTo - plan.yearDays * DAY_MS;
  const yearReadings = plan.yearDays * 1440;
  const sensorId = `${rid}-year`;
  const yearAt = (i: number): Reading => ({
    sensorId,
    metric: 'value',
    value: valueAt(i),
    ts: yearFrom + i * MINUTE_MS + 17_000,
  });
  const year = host.db('year');
  let api = await host.start('api-tiers-year', 'api', 'year');
  // A year arrives as a backfill: the api acks it into Kafka while no worker runs (the first worker made the
  // topic), then one worker drains it with compaction and the tiers' roll-ups running beside its flushes. The
  // flush figure is then the store's write path, as in the backlog drain, not two cores shared with the api and
  // the load generator while they ingest at full speed.
  let worker = await host.start('worker-tiers-year-topic', 'worker', 'year');
  await host.stop(worker);
  await ingest(api.url, yearReadings, yearAt);
  const drainFrom = performance.now();
  worker = await host.start('worker-tiers-year', 'worker', 'year');
  await settle(year, yearReadings, plan.settleS);
  const yearSettleS = (performance.now() - drainFrom) / 1000;
  const metrics = await Scrape.of(`${worker.url}/metrics`);
  const flushDocsPerSec =
    metrics.sum('funnel_readings_written_total') / metrics.sum('funnel_flush_duration_seconds_sum');
  host.log(
    `tiers: ${yearReadings} readings over ${plan.yearDays} days drained and settled ${yearSettleS.toFixed(1)} s after the worker started; ` +
      `flush ${Math.round(flushDocsPerSec)} docs/s with compaction on`,
  );
  const all = Array.from({ length: yearReadings }, (_, i) => yearAt(i));
  const monthDays = Math.min(30, plan.yearDays);
  const monthFrom = yearTo - monthDays * DAY_MS;
  const query = async (window: string, binMs: number, from: number) => {
    const expected = expectedBuckets(
      all.filter((r) => r.ts >= from),
      binMs,
    );
    const params = new URLSearchParams({
      sensorId,
      metric: 'value',
      from: new Date(from).toISOString(),
      to: new Date(yearTo).toISOString(),
      window,
    });
    const funnelMs = await timedMs(plan.reps, async () => {
      const res = await fetch(`${api.url}/v1/aggregates?${params}`, { headers: ADMIN_AUTH });
      const body = (await res.json()) as { buckets?: Bucket[] };
      if (res.status !== 200 || !body.buckets)
        throw new Error(`${window} answered ${res.status}: ${JSON.stringify(body)}`);
      checkAnswer(`window=${window}`, body.buckets, expected);
    });
    const pipeline = bucketsPipeline({ sensorId, metric: 'value', from, to: yearTo, binMs });
    const rawMs = await timedMs(Math.min(plan.reps, 3), async () => {
      const rows = await year.collection('points').aggregate(pipeline).toArray();
      if (rows.length !== expected.size)
        throw new Error(`raw pipeline: ${rows.length} buckets, expected ${expected.size}`);
    });
    const tier = binMs === DAY_MS ? 'points_d1' : 'points_h1';
    const docs = await year
      .collection(tier)
      .countDocuments({ s: sensorId, ts: { $gte: new Date(from), $lt: new Date(yearTo) } });
    return { funnelMs, rawMs, docs, readings: all.filter((r) => r.ts >= from).length };
  };
  const day = await query('1d', DAY_MS, yearFrom);
  const hour = await query('1h', HOUR_MS, monthFrom);
  host.log(
    `tiers: day buckets over ${plan.yearDays} days ${Math.round(day.funnelMs)} ms (${day.docs} day docs), raw pipeline ${Math.round(day.rawMs)} ms; ` +
      `hour buckets over ${monthDays} days ${Math.round(hour.funnelMs)} ms (${hour.docs} hour docs), raw pipeline ${Math.round(hour.rawMs)} ms`,
  );
  await host.stop(worker);
  await host.stop(api);
  await year.dropDatabase();

  // ---- The fleet: plan.fleetSeries series, 10 values of `site`, one reading a minute each, minute by minute.
  const fleetReadings = plan.fleetSeries * plan.fleetMinutes;
  const fleetFrom = yearTo - DAY_MS;
  const fleetAt = (i: number): Reading => {
    const series = i % plan.fleetSeries;
    const minute = Math.floor(i / plan.fleetSeries);
    return {
      sensorId: `${rid}-fleet-${series}`,
      metric: 'value',
      tags: { site: `site-${series % 10}` },
      value: valueAt(i),
      ts: fleetFrom + minute * MINUTE_MS + (series % 60) * 1000,
    };
  };
  const fleet = host.db('fleet');
  api = await host.start('api-tiers-fleet', 'api', 'fleet');
  worker = await host.start('worker-tiers-fleet', 'worker', 'fleet');
  await ingest(api.url, fleetReadings, fleetAt);
  await settle(fleet, fleetReadings, plan.settleS);
  await host.stop(worker);
  await host.stop(api);
  // Nothing writes now: the sizes are of what compaction left.
  await sleep(100);
  const fleetMinuteDocs = await fleet.collection('points_m1').countDocuments();
  const perReading = async (collection: string) => (await bsonBytes(fleet, collection)) / fleetReadings;
  const bytesPerReading = {
    raw: await perReading('points'),
    minute: await perReading('points_m1'),
    hour: await perReading('points_h1'),
    day: await perReading('points_d1'),
  };
  host.log(
    `tiers: fleet of ${plan.fleetSeries} series × ${plan.fleetMinutes} minutes: ${fleetMinuteDocs} minute docs; bytes/reading ` +
      Object.entries(bytesPerReading)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', '),
  );
  await fleet.dropDatabase();
  return {
    yearDays: plan.yearDays,
    yearReadings,
    dayFunnelMs: day.funnelMs,
    dayRawMs: day.rawMs,
    dayDocs: day.docs,
    monthDays,
    hourFunnelMs: hour.funnelMs,
    hourRawMs: hour.rawMs,
    hourDocs: hour.docs,
    monthReadings: hour.readings,
    yearSettleS,
    flushDocsPerSec,
    fleetSeries: plan.fleetSeries,
    fleetReadings,
    fleetMinuteDocs,
    fleetSeriesMinutes: fleetReadings,
    bytesPerReading,
  };
}

const n = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The stage's rows of the printed table. */
export function tierRows(t: TiersFigures): Array<[string, string]> {
  const b = t.bytesPerReading;
  return [
    [
      `Funnel tiers: ${n(t.yearDays)} days of 1 reading/min`,
      `${n(t.yearReadings)} readings${t.yearDays < 365 ? ' (fewer than the issue’s 525,600: not a full run)' : ''}, drained and settled ${n(t.yearSettleS, 1)} s after the worker started`,
    ],
    [
      'Funnel tiers: window=1d over the range',
      `${n(t.dayFunnelMs)} ms answer from ${n(t.dayDocs)} day docs; raw-readings pipeline ${n(t.dayRawMs)} ms over ${n(t.yearReadings)} readings`,
    ],
    [
      `Funnel tiers: window=1h over ${n(t.monthDays)} days`,
      `${n(t.hourFunnelMs)} ms answer from ${n(t.hourDocs)} hour docs; raw-readings pipeline ${n(t.hourRawMs)} ms over ${n(t.monthReadings)} readings`,
    ],
    [
      `Funnel tiers: ${n(t.fleetSeries)} series × ${n(t.fleetReadings / t.fleetSeries)} min`,
      `${n(t.fleetMinuteDocs)} minute docs for ${n(t.fleetSeriesMinutes)} series-minutes; BSON bytes/reading raw ${n(b.raw, 1)}, minute ${n(b.minute, 1)}, hour ${n(b.hour, 2)}, day ${n(b.day, 3)}`,
    ],
  ];
}

/** The issue's tier targets; the flush target is judged against the L_mongo of the same run. */
export function tierTargets(
  t: TiersFigures,
  lMongoDocsPerSec: number,
): Array<{ target: string; measured: string; pass: boolean }> {
  const docsPerSeriesMinute = t.fleetMinuteDocs / t.fleetSeriesMinutes;
  const flushRatio = lMongoDocsPerSec > 0 ? t.flushDocsPerSec / lMongoDocsPerSec : 0;
  return [
    {
      target: `day buckets over ${t.yearDays >= 365 ? 'a year' : `${n(t.yearDays)} days (quick)`} < 100 ms`,
      measured: `${n(t.dayFunnelMs)} ms (raw pipeline ${n(t.dayRawMs)} ms)`,
      pass: t.dayFunnelMs < 100,
    },
    {
      target: `hour buckets over ${n(t.monthDays)} days < 100 ms`,
      measured: `${n(t.hourFunnelMs)} ms (raw pipeline ${n(t.hourRawMs)} ms)`,
      pass: t.hourFunnelMs < 100,
    },
    {
      target: 'minute docs per series-minute ≤ 1.05',
      measured: `${n(docsPerSeriesMinute, 3)} (${n(t.fleetMinuteDocs)} / ${n(t.fleetSeriesMinutes)})`,
      pass: docsPerSeriesMinute <= 1.05,
    },
    {
      target: 'flush ≥ 0.85 × L_mongo with compaction on (tiers)',
      measured: `${n(t.flushDocsPerSec)} / ${n(lMongoDocsPerSec)} = ${n(flushRatio, 2)}`,
      pass: flushRatio >= 0.85,
    },
  ];
}
