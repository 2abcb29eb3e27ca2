// The query API's bench stage (GET /v2/aggregates): 1,000 series grouped by tag over a day, a year of one series in
// Berlin months, and 20 concurrent dashboards while ingest runs. Each answer is checked against the bench's own
// calculation, and each time is printed beside the same answer's MongoDB reads made through the driver.
import type { Db, Document } from 'mongodb';

import { loadConfig } from '@funnel/config';
import { Scrape } from '@funnel/dev-infra';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '@funnel/storage';

import type { FunnelNode } from '../faults/funnel-node.js';
import { ADMIN_AUTH } from '../support/env.js';
import { expectedBy, ingest, settle, timedMs, valueAt, type Reading } from './tiers.js';
import { median } from './tools.js';

/** How much of it: the issue's sizes in full mode; --quick and --smoke take fewer days and minutes. */
export interface QueriesPlan {
  /** Days of one reading a minute for the single series (the issue: a year). */
  yearDays: number;
  /** Series of the fleet, 10 values of tag `site` (the issue: 1,000). */
  fleetSeries: number;
  /** Minutes of one reading each per fleet series (the issue: a day, 1,440). */
  fleetMinutes: number;
  reps: number;
  /** Concurrent dashboards (the issue: 20) and the queries each makes (4 kinds per round). */
  dashboards: number;
  dashboardRounds: number;
  /** Readings/s of the steady ingest when the run measured no pipeline capacity (else half of that). */
  ingestRate: number;
  settleS: number;
}

export const QUERIES_PLAN: Record<'smoke' | 'quick' | 'full', QueriesPlan> = {
  smoke: {
    yearDays: 3,
    fleetSeries: 100,
    fleetMinutes: 3,
    reps: 1,
    dashboards: 20,
    dashboardRounds: 1,
    ingestRate: 500,
    settleS: 120,
  },
  quick: {
    yearDays: 92,
    fleetSeries: 1000,
    fleetMinutes: 120,
    reps: 3,
    dashboards: 20,
    dashboardRounds: 5,
    ingestRate: 5000,
    settleS: 600,
  },
  full: {
    yearDays: 365,
    fleetSeries: 1000,
    fleetMinutes: 1440,
    reps: 5,
    dashboards: 20,
    dashboardRounds: 4, // 20 dashboards × 4 rounds × 4 panels: 320 queries while ingest runs
    ingestRate: 5000,
    settleS: 1800,
  },
};

export interface QueriesFigures {
  fleetSeries: number;
  fleetMinutes: number;
  /** groupBy=tag.site&window=hour&fns=avg,p95 over the fleet's day: the answer, and its reads via the driver. */
  fleetMs: number;
  fleetDriverMs: number;
  fleetDocs: number;
  yearDays: number;
  yearReadings: number;
  /** window=month&tz=Europe/Berlin over the year's range. */
  yearMs: number;
  yearDriverMs: number;
  yearDocs: number;
  dashboards: number;
  dashboardQueries: number;
  dashboardP50Ms: number;
  dashboardP99Ms: number;
  /** The same mix's reads through the driver, as many at once, while the same ingest runs. */
  dashboardDriverP99Ms: number;
  /**
   * Dashboard answers other than 200 (503: the queue full, a wait past QUERY_QUEUE_WAIT_MS, or a run past
   * QUERY_TIMEOUT_MS), with the api's own count of each reason.
   */
  dashboardRefused: number;
  dashboardRefusedBy: Record<'queue_full' | 'wait_exceeded' | 'timeout', number>;
  /** The api's funnel_query_queue_wait_seconds over the dashboards: mean, and the bucket bound holding p50/p99. */
  dashboardWaitMeanMs: number;
  dashboardWaitP50Ms: number | null;
  dashboardWaitP99Ms: number | null;
  /** Slots and queue length the api ran with (its defaults). */
  maxConcurrentQueries: number;
  maxQueuedQueries: number;
  queueWaitMs: number;
  ingestOfferedPerSec: number;
  ingestAcceptedPerSec: number;
}

/** What the stage needs of the bench: an api and a worker on a topic and database of their own. */
export interface QueriesHost {
  start(name: string, role: 'api' | 'worker', env?: Record<string, string>): Promise<FunnelNode>;
  stop(node: FunnelNode): Promise<void>;
  db(): Db;
  log(line: string): void;
  /** Readings/s this run's batched stage stored end to end, when it ran: the dashboards ingest at half of it. */
  pipelineReadingsPerSec?: number;
}

type Answer = Record<string, number | string | null>;
interface V2Answer {
  series: Array<{ key: Record<string, string | null>; buckets: Answer[] }>;
}
type Range = { from: number; to: number };

const SITES = 10;
/** Readings sent before the stage waits for the tiers to hold them (well under the worker's 50,000 buffer). */
const LOAD_PART = 25_000;
/** Percentiles are within 1 % of the value at rank q·(n−1) (the issue's bound). */
const PERCENTILE_BOUND = 0.01;

async function v2(url: string, params: Record<string, string>): Promise<{ status: number; body: V2Answer }> {
  const res = await fetch(`${url}/v2/aggregates?${new URLSearchParams(params)}`, { headers: ADMIN_AUTH });
  return { status: res.status, body: (await res.json()) as V2Answer };
}

async function answered(url: string, params: Record<string, string>): Promise<V2Answer> {
  const { status, body } = await v2(url, params);
  if (status !== 200) throw new Error(`v2 ${JSON.stringify(params)} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

/**
 * The documents a settled answer reads for buckets with these bounds, as the tier reader plans them: per bucket
 * the days, then hours, then minutes lying whole inside it; adjacent periods of a tier merged into ranges
 * (more than 32 become their span, as the reader does).
 */
function tierRanges(bounds: readonly number[]): Record<'day' | 'hour' | 'minute' | 'raw', Range[]> {
  const out: Record<'day' | 'hour' | 'minute' | 'raw', Range[]> = { day: [], hour: [], minute: [], raw: [] };
  const widths = [
    ['day', DAY_MS],
    ['hour', HOUR_MS],
    ['minute', MINUTE_MS],
  ] as const;
  const add = (tier: keyof typeof out, from: number, to: number) => {
    const last = out[tier].at(-1);
    if (last && last.to === from) last.to = to;
    else out[tier].push({ from, to });
  };
  const split = (from: number, to: number, level: number): void => {
    if (from >= to) return;
    if (level === widths.length) return add('raw', from, to);
    const [tier, width] = widths[level]!;
    const first = Math.ceil(from / width) * width;
    const end = Math.floor(to / width) * width;
    if (first >= end) return split(from, to, level + 1);
    split(from, first, level + 1);
    add(tier, first, end);
    split(end, to, level + 1);
  };
  for (let i = 0; i + 1 < bounds.length; i++) split(bounds[i]!, bounds[i + 1]!, 0);
  for (const tier of ['day', 'hour', 'minute'] as const) {
    out[tier].sort((a, b) => a.from - b.from);
    if (out[tier].length > 32) out[tier] = [{ from: out[tier][0]!.from, to: out[tier].at(-1)!.to }];
  }
  return out;
}

const inRanges = (ranges: readonly Range[]): Document => {
  const one = (r: Range) => ({ ts: { $gte: new Date(r.from), $lt: new Date(r.to) } });
  return ranges.length === 1 ? one(ranges[0]!) : { $or: ranges.map(one) };
};

/** The reads of one answer through the driver: slices, dirty marks, then the tiers at once. Documents read. */
async function driverReads(db: Db, filter: Document, bounds: readonly number[]): Promise<number> {
  const plan = tierRanges(bounds);
  if (plan.raw.length > 0) throw new Error('a bench query needs raw readings: it should ask for whole minutes');
  // Slice documents are keyed by their hour: read from the first hour's start, as Funnel does.
  const span = [{ from: bounds[0]! - (bounds[0]! % 3_600_000), to: bounds.at(-1)! }];
  const coarse = [...plan.day, ...plan.hour];
  const small = await Promise.all([
    db
      .collection('points_slices')
      .find({ ...filter, ...inRanges(span) })
      .toArray(),
    ...(coarse.length > 0
      ? (['hour', 'day'] as const).map((tier) =>
          db
            .collection('points_dirty')
            .find({ ...filter, tier, ...inRanges(coarse) })
            .toArray(),
        )
      : []),
  ]);
  const collections = { day: 'points_d1', hour: 'points_h1', minute: 'points_m1' } as const;
  const docs = await Promise.all(
    (['day', 'hour', 'minute'] as const)
      .filter((tier) => plan[tier].length > 0)
      .map((tier) =>
        db
          .collection(collections[tier])
          .find({ ...filter, ...inRanges(plan[tier]) })
          .toArray(),
      ),
  );
  return [...small, ...docs].reduce((n, list) => n + list.length, 0);
}

const edges = (from: number, to: number, width: number) =>
  Array.from({ length: Math.ceil((to - from) / width) + 1 }, (_, i) => Math.min(to, from + i * width));

/** Bounds of a calendar answer over dense data: its bucket starts (the first clipped to `from`) and `to`. */
function answerBounds(answer: V2Answer, from: number, to: number): number[] {
  const starts = [...new Set(answer.series.flatMap((s) => s.buckets.map((b) => Date.parse(String(b.start)))))];
  starts.sort((a, b) => a - b);
  return [from, ...starts.filter((t) => t > from), to];
}

function exactPercentileBounds(sorted: readonly number[], q: number): [number, number] {
  const rank = q * (sorted.length - 1);
  const [a, b] = [sorted[Math.floor(rank)]!, sorted[Math.ceil(rank)]!];
  return [
    Math.min(a, b) - PERCENTILE_BOUND * Math.abs(Math.min(a, b)),
    Math.max(a, b) + PERCENTILE_BOUND * Math.abs(Math.max(a, b)),
  ];
}

function near(x: unknown, expected: number): boolean {
  return typeof x === 'number' && Math.abs(x - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

/** Every site's avg and p95 per UTC hour against the bench's own values and exact ranks. */
function checkFleet(answer: V2Answer, readings: readonly Reading[]): void {
  const groups = new Map<string, Map<number, number[]>>();
  for (const r of readings) {
    const site = r.tags!.site!;
    const hours = groups.get(site) ?? new Map<number, number[]>();
    groups.set(site, hours);
    const hour = r.ts - (r.ts % HOUR_MS);
    const values = hours.get(hour);
    if (values) values.push(r.value);
    else hours.set(hour, [r.value]);
  }
  const sites = [...groups.keys()].sort();
  const got = answer.series.map((s) => s.key['tag.site']);
  if (JSON.stringify(got) !== JSON.stringify(sites)) throw new Error(`fleet: series ${got} expected ${sites}`);
  for (const series of answer.series) {
    const hours = groups.get(series.key['tag.site']!)!;
    if (series.buckets.length !== hours.size)
      throw new Error(`fleet: ${series.buckets.length} buckets, expected ${hours.size}`);
    for (const b of series.buckets) {
      const values = (hours.get(Date.parse(String(b.start))) ?? []).sort((x, y) => x - y);
      const avg = values.reduce((s, v) => s + v, 0) / values.length;
      const [lo, hi] = exactPercentileBounds(values, 0.95);
      if (!near(b.avg, avg) || typeof b.p95 !== 'number' || b.p95 < lo || b.p95 > hi)
        throw new Error(`fleet: ${JSON.stringify(b)} expected avg ${avg}, p95 in [${lo}, ${hi}]`);
    }
  }
}

/** Each Berlin month (bucket starts at a local midnight of the 1st, found with Intl) against the bench's sums. */
function checkYearMonths(answer: V2Answer, readings: readonly Reading[]): void {
  const local = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Berlin',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const expected = expectedBy(readings, (ts) => local.format(ts).slice(0, 7));
  const buckets = answer.series.length === 1 ? answer.series[0]!.buckets : [];
  if (buckets.length !== expected.size) throw new Error(`year: ${buckets.length} months, expected ${expected.size}`);
  for (const b of buckets) {
    const start = local.format(Date.parse(String(b.start)));
    const e = expected.get(start.slice(0, 7));
    if (!start.endsWith('-01, 00:00') || !e) throw new Error(`year: a month bucket starts at ${start} Berlin time`);
    if (b.count !== e.count || b.sum !== e.sum || b.min !== e.min || b.max !== e.max || !near(b.avg, e.sum / e.count))
      throw new Error(`year: ${JSON.stringify(b)} expected ${JSON.stringify(e)}`);
  }
}

/** POSTs `rate` readings/s in 200 ms ticks (live timestamps, a metric no query asks for) until stopped. */
function steadyIngest(url: string, rate: number, sensorPrefix: string) {
  const tickMs = 200;
  const perTick = Math.max(1, Math.round((rate * tickMs) / 1000));
  const started = performance.now();
  let offered = 0;
  let accepted = 0;
  let failed = '';
  const inFlight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const now = Date.now();
    const body = JSON.stringify(
      Array.from({ length: perTick }, (_, j) => ({
        sensorId: `${sensorPrefix}${j % 1000}`,
        metric: 'live',
        value: valueAt(offered + j),
        ts: now - Math.floor(j / 1000),
      })),
    );
    offered += perTick;
    const post = fetch(`${url}/v1/points`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
      body,
    })
      .then(async (res) => {
        if (res.status === 202) accepted += perTick;
        else failed ||= `${res.status}: ${(await res.text()).slice(0, 200)}`;
      })
      .catch((error: Error) => {
        failed ||= error.message;
      })
      .finally(() => inFlight.delete(post));
    inFlight.add(post);
  }, tickMs);
  return async () => {
    clearInterval(timer);
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1000;
    return { offeredPerSec: offered / seconds, acceptedPerSec: accepted / seconds, failed };
  };
}

/** `work`, failing as soon as one of `nodes` exits (rather than at the end of a settle timeout). */
async function whileRunning<T>(nodes: readonly FunnelNode[], work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const gone = nodes.find((node) => !node.running);
      if (gone) reject(new Error(`${gone.name} exited during the queries stage:\n${gone.tail(15)}`));
    }, 1000);
  });
  try {
    return await Promise.race([work(), exited]);
  } finally {
    clearInterval(timer);
  }
}

/** `clients` loops at once, each running every kind `rounds` times (rotated): the latency of each run, in ms. */
async function concurrently(clients: number, rounds: number, kinds: number, run: (kind: number) => Promise<void>) {
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; i < rounds * kinds; i++) {
        const t = performance.now();
        await run((client + i) % kinds);
        times.push(performance.now() - t);
      }
    }),
  );
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

export async function queriesStage(host: QueriesHost, plan: QueriesPlan, rid: string): Promise<QueriesFigures> {
  const db = host.db();
  // ---- Data: one series a reading a minute for plan.yearDays days ending at the start of yesterday (UTC), and
  // plan.fleetSeries series (10 values of `site`) a reading a minute for plan.fleetMinutes of the day before that.
  const yearTo = Math.floor(Date.now() / DAY_MS) * DAY_MS - DAY_MS;
  const yearFrom = yearTo - plan.yearDays * DAY_MS;
  const yearReadings = plan.yearDays * 1440;
  const yearSensor = `${rid}-q-year`;
  const yearAt = (i: number): Reading => ({
    sensorId: yearSensor,
    metric: 'year',
    value: valueAt(i),
    ts: yearFrom + i * MINUTE_MS + 17_000,
  });
  const fleetFrom = yearTo - DAY_MS;
  const fleetReadings = plan.fleetSeries * plan.fleetMinutes;
  const fleetAt = (i: number): Reading => {
    const series = i % plan.fleetSeries;
    return {
      sensorId: `${rid}-q-fleet-${series}`,
      metric: 'fleet',
      tags: { site: `site-${series % SITES}` },
      value: valueAt(i),
      ts: fleetFrom + Math.floor(i / plan.fleetSeries) * MINUTE_MS + (series % 60) * 1000,
    };
  };
  // The api's own defaults: 20 dashboards against MAX_CONCURRENT_QUERIES (16) slots, the rest waiting in the queue
  // (MAX_QUEUED_QUERIES, QUERY_QUEUE_WAIT_MS), as an operator's api would run.
  const defaults = loadConfig({});
  const api = await host.start('api-queries', 'api');
  const worker = await host.start('worker-queries', 'worker');
  // Sent in parts, each settled before the next: the worker's backlog stays under one part. Sent at once, the
  // quick sizes' backlog took the worker (192 MB heap) past its heap limit on a loaded machine, twice.
  let settled = 0;
  const load = async (total: number, readingAt: (i: number) => Reading) => {
    for (let from = 0; from < total; from += LOAD_PART) {
      const part = Math.min(LOAD_PART, total - from);
      await ingest(api.url, part, (i) => readingAt(from + i));
      settled += part;
      await settle(db, settled, plan.settleS);
    }
  };
  await whileRunning([api, worker], async () => {
    await load(yearReadings, yearAt);
    await load(fleetReadings, fleetAt);
  });
  host.log(`queries: ${yearReadings} year readings and ${fleetReadings} fleet readings settled in the tiers`);

  // ---- The fleet grouped by site, hourly over the day.
  const fleet = Array.from({ length: fleetReadings }, (_, i) => fleetAt(i));
  const day = { from: new Date(fleetFrom).toISOString(), to: new Date(fleetFrom + DAY_MS).toISOString() };
  const fleetQuery = { metric: 'fleet', groupBy: 'tag.site', window: 'hour', fns: 'avg,p95', ...day };
  checkFleet(await answered(api.url, fleetQuery), fleet);
  const fleetBounds = edges(fleetFrom, fleetFrom + DAY_MS, HOUR_MS);
  const fleetMs = await timedMs(plan.reps, async () => void (await answered(api.url, fleetQuery)));
  const fleetDocs = await driverReads(db, { m: 'fleet' }, fleetBounds);
  const fleetDriverMs = await timedMs(plan.reps, async () => void (await driverReads(db, { m: 'fleet' }, fleetBounds)));

  // ---- The year in Berlin months.
  const year = Array.from({ length: yearReadings }, (_, i) => yearAt(i));
  const yearQuery = {
    metric: 'year',
    window: 'month',
    tz: 'Europe/Berlin',
    from: new Date(yearFrom).toISOString(),
    to: new Date(yearTo).toISOString(),
  };
  const months = await answered(api.url, yearQuery);
  checkYearMonths(months, year);
  const yearBounds = answerBounds(months, yearFrom, yearTo);
  const yearMs = await timedMs(plan.reps, async () => void (await answered(api.url, yearQuery)));
  const yearDocs = await driverReads(db, { m: 'year' }, yearBounds);
  const yearDriverMs = await timedMs(plan.reps, async () => void (await driverReads(db, { m: 'year' }, yearBounds)));
  host.log(
    `queries: fleet by site ${Math.round(fleetMs)} ms (driver ${Math.round(fleetDriverMs)} ms, ${fleetDocs} docs); ` +
      `year in Berlin months ${Math.round(yearMs)} ms (driver ${Math.round(yearDriverMs)} ms, ${yearDocs} docs)`,
  );

  // ---- Dashboards: four kinds of panel, each answer equal to its first (checked) answer while ingest runs.
  const lastSpan = Math.min(60, plan.fleetMinutes) * MINUTE_MS;
  const lastFrom = fleetFrom + plan.fleetMinutes * MINUTE_MS - lastSpan;
  const lastTo = fleetFrom + plan.fleetMinutes * MINUTE_MS;
  const monthDays = Math.min(30, plan.yearDays);
  interface Panel {
    params: Record<string, string> & { from: string; to: string };
    filter: Document;
    bounds: number[];
    /** Readings the answer counts (the bench's own count), where it asks for count. */
    count?: number;
  }
  const panels: Panel[] = [
    { params: fleetQuery, filter: { m: 'fleet' }, bounds: fleetBounds },
    {
      params: {
        metric: 'fleet',
        'tag.site': 'site-3',
        groupBy: 'sensorId',
        window: '5m',
        fns: 'count,avg,max',
        from: new Date(lastFrom).toISOString(),
        to: new Date(lastTo).toISOString(),
      },
      filter: { m: 'fleet', ga: { $all: ['site=site-3'] } },
      bounds: edges(lastFrom, lastTo, 5 * MINUTE_MS),
      count: (plan.fleetSeries / SITES) * (lastSpan / MINUTE_MS),
    },
    {
      params: {
        metric: 'fleet',
        sensorId: `${rid}-q-fleet-7`,
        window: '15m',
        fill: 'previous',
        fns: 'count,min,max,p99',
        ...day,
      },
      filter: { m: 'fleet', s: { $in: [`${rid}-q-fleet-7`] } },
      bounds: edges(fleetFrom, fleetFrom + DAY_MS, 15 * MINUTE_MS),
      count: plan.fleetMinutes,
    },
    {
      params: {
        metric: 'year',
        window: 'day',
        tz: 'America/New_York',
        fns: 'count,avg,stddev',
        from: new Date(yearTo - monthDays * DAY_MS).toISOString(),
        to: new Date(yearTo).toISOString(),
      },
      filter: { m: 'year' },
      bounds: [],
      count: monthDays * 1440,
    },
  ];
  const firstAnswers: string[] = [];
  for (const panel of panels) {
    const answer = await answered(api.url, panel.params);
    const counted = answer.series.reduce((n, s) => n + s.buckets.reduce((m, b) => m + Number(b.count), 0), 0);
    if (panel.count !== undefined && counted !== panel.count)
      throw new Error(`panel ${JSON.stringify(panel.params)} counted ${counted} readings, expected ${panel.count}`);
    if (panel.bounds.length === 0)
      panel.bounds = answerBounds(answer, Date.parse(panel.params.from), Date.parse(panel.params.to));
    firstAnswers.push(JSON.stringify(answer));
  }
  const rate = Math.round(host.pipelineReadingsPerSec ? host.pipelineReadingsPerSec / 2 : plan.ingestRate);
  const stopIngest = steadyIngest(api.url, rate, `${rid}-q-live-`);
  const before = await Scrape.of(`${api.url}/metrics`);
  let refused = 0;
  const funnelTimes = await concurrently(plan.dashboards, plan.dashboardRounds, panels.length, async (kind) => {
    const { status, body } = await v2(api.url, panels[kind]!.params);
    if (status !== 200) refused++;
    else if (JSON.stringify(body) !== firstAnswers[kind])
      throw new Error(`panel ${kind} answered differently under load: ${JSON.stringify(body).slice(0, 300)}`);
  });
  const after = await Scrape.of(`${api.url}/metrics`);
  const delta = (name: string, labels: Record<string, string> = {}) =>
    after.sum(name, labels) - before.sum(name, labels);
  const WAIT = 'funnel_query_queue_wait_seconds';
  const waitQuantileMs = (q: number) => {
    const bound = after.quantileSince(before, WAIT, q);
    return bound === null ? null : bound * 1000;
  };
  const waits = delta(`${WAIT}_count`);
  const driverTimes = await concurrently(plan.dashboards, plan.dashboardRounds, panels.length, async (kind) => {
    await driverReads(db, panels[kind]!.filter, panels[kind]!.bounds);
  });
  const ingested = await stopIngest();
  if (ingested.failed) throw new Error(`steady ingest failed: ${ingested.failed}`);
  const figures: QueriesFigures = {
    fleetSeries: plan.fleetSeries,
    fleetMinutes: plan.fleetMinutes,
    fleetMs,
    fleetDriverMs,
    fleetDocs,
    yearDays: plan.yearDays,
    yearReadings,
    yearMs,
    yearDriverMs,
    yearDocs,
    dashboards: plan.dashboards,
    dashboardQueries: funnelTimes.length,
    dashboardP50Ms: median(funnelTimes),
    dashboardP99Ms: quantile(funnelTimes, 0.99),
    dashboardDriverP99Ms: quantile(driverTimes, 0.99),
    dashboardRefused: refused,
    dashboardRefusedBy: {
      queue_full: delta('funnel_queries_refused_total', { reason: 'queue_full' }),
      wait_exceeded: delta('funnel_queries_refused_total', { reason: 'wait_exceeded' }),
      timeout: delta('funnel_queries_refused_total', { reason: 'timeout' }),
    },
    dashboardWaitMeanMs: waits > 0 ? (delta(`${WAIT}_sum`) / waits) * 1000 : 0,
    dashboardWaitP50Ms: waitQuantileMs(0.5),
    dashboardWaitP99Ms: waitQuantileMs(0.99),
    maxConcurrentQueries: defaults.MAX_CONCURRENT_QUERIES,
    maxQueuedQueries: defaults.MAX_QUEUED_QUERIES,
    queueWaitMs: defaults.QUERY_QUEUE_WAIT_MS,
    ingestOfferedPerSec: ingested.offeredPerSec,
    ingestAcceptedPerSec: ingested.acceptedPerSec,
  };
  host.log(
    `queries: ${plan.dashboards} dashboards, ${funnelTimes.length} queries: p50 ${Math.round(figures.dashboardP50Ms)} ms, ` +
      `p99 ${Math.round(figures.dashboardP99Ms)} ms (driver p99 ${Math.round(figures.dashboardDriverP99Ms)} ms), ` +
      `${refused} refused ${JSON.stringify(figures.dashboardRefusedBy)}; queue wait mean ` +
      `${Math.round(figures.dashboardWaitMeanMs)} ms, p50 <= ${figures.dashboardWaitP50Ms} ms, p99 <= ` +
      `${figures.dashboardWaitP99Ms} ms (${defaults.MAX_CONCURRENT_QUERIES} slots, queue ` +
      `${defaults.MAX_QUEUED_QUERIES} x ${defaults.QUERY_QUEUE_WAIT_MS} ms); ` +
      `ingest ${Math.round(ingested.acceptedPerSec)}/s accepted of ${rate}/s`,
  );
  await host.stop(worker);
  await host.stop(api);
  await db.dropDatabase();
  return figures;
}

const n = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The stage's rows of the printed table. */
export function queryRows(q: QueriesFigures): Array<[string, string]> {
  return [
    [
      `Funnel v2 query: ${n(q.fleetSeries)} series × ${n(q.fleetMinutes)} min by tag.site`,
      `groupBy=tag.site&window=hour&fns=avg,p95 over the day ${n(q.fleetMs)} ms; its reads via driver ${n(q.fleetDriverMs)} ms (${n(q.fleetDocs)} docs)`,
    ],
    [
      `Funnel v2 query: ${n(q.yearDays)} days of 1 series in Berlin months`,
      `window=month&tz=Europe/Berlin ${n(q.yearMs)} ms over ${n(q.yearReadings)} readings; its reads via driver ${n(q.yearDriverMs)} ms (${n(q.yearDocs)} docs)`,
    ],
    [
      `Funnel v2 query: ${n(q.dashboards)} concurrent dashboards under ingest`,
      `p50 ${n(q.dashboardP50Ms)}, p99 ${n(q.dashboardP99Ms)} ms over ${n(q.dashboardQueries)} queries (${n(q.dashboardRefused)} refused); ` +
        `queued for a slot: mean ${n(q.dashboardWaitMeanMs)} ms, p99 <= ${q.dashboardWaitP99Ms === null ? '-' : n(q.dashboardWaitP99Ms)} ms ` +
        `(${n(q.maxConcurrentQueries)} slots, queue ${n(q.maxQueuedQueries)} x ${n(q.queueWaitMs)} ms); same reads via driver p99 ${n(q.dashboardDriverP99Ms)} ms; ingest ${n(q.ingestAcceptedPerSec)}/s of ${n(q.ingestOfferedPerSec)}/s offered`,
    ],
  ];
}

/** The issue's query targets. */
export function queryTargets(q: QueriesFigures): Array<{ target: string; measured: string; pass: boolean }> {
  const fleetSize =
    q.fleetMinutes >= 1440 && q.fleetSeries >= 1000
      ? ''
      : ` (${n(q.fleetSeries)} × ${n(q.fleetMinutes)} min: not full size)`;
  return [
    {
      target: `groupBy=tag.site hourly over a day of 1,000 series < 1 s${fleetSize}`,
      measured: `${n(q.fleetMs)} ms (driver ${n(q.fleetDriverMs)} ms)`,
      pass: q.fleetMs < 1000,
    },
    {
      target: `window=month tz=Europe/Berlin over ${q.yearDays >= 365 ? 'a year' : `${n(q.yearDays)} days (not full size)`} < 100 ms`,
      measured: `${n(q.yearMs)} ms (driver ${n(q.yearDriverMs)} ms)`,
      pass: q.yearMs < 100,
    },
    {
      target: `${n(q.dashboards)} concurrent dashboard queries under ingest: every one answered`,
      measured: `p99 ${n(q.dashboardP99Ms)} ms, ${n(q.dashboardRefused)} of ${n(q.dashboardQueries)} refused`,
      pass: q.dashboardRefused === 0,
    },
  ];
}
