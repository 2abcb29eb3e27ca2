// The ingest formats' bench stage: the same readings written as Funnel JSON (/v1/points), InfluxDB line protocol
// (/api/v2/write), both gzip'd, and through the official InfluxDB client library, each to a fresh api and worker:
// readings/s stored end to end and CPU per reading of the api and the worker.
import type { FunnelNode } from '../faults/funnel-node.js';
import type { FormatName, FormatsJob, FormatsLoadResult } from './formats-load.js';

/** A run of the stage: a format, sent as fast as answered or at the plan's paced rate. */
export type FormatRun = FormatName | 'jsonPaced' | 'jsonGzipPaced' | 'lpPaced' | 'lpGzipPaced';

/**
 * The runs, in the order they run, with their table labels. The closed-loop runs (8 requests in flight) give
 * each format's readings/s and CPU; the generator outruns the worker, so every one of them flushes full batches
 * (FLUSH_MAX_POINTS). The paced runs offer every format the same readings/s, below what the worker stores: its
 * batches are then set by flushDueAt (freshness), and its CPU per reading shows what a moderate rate costs.
 */
export const FORMATS: ReadonlyArray<{ name: FormatRun; label: string; format: FormatName; paced?: true }> = [
  { name: 'json', label: 'Funnel JSON /v1/points', format: 'json' },
  { name: 'lp', label: 'line protocol /api/v2/write', format: 'lp' },
  { name: 'jsonGzip', label: 'Funnel JSON, gzip', format: 'jsonGzip' },
  { name: 'lpGzip', label: 'line protocol, gzip', format: 'lpGzip' },
  { name: 'influxClient', label: '@influxdata/influxdb-client', format: 'influxClient' },
  { name: 'jsonPaced', label: 'Funnel JSON, paced', format: 'json', paced: true },
  { name: 'jsonGzipPaced', label: 'Funnel JSON, gzip, paced', format: 'jsonGzip', paced: true },
  { name: 'lpPaced', label: 'line protocol, paced', format: 'lp', paced: true },
  { name: 'lpGzipPaced', label: 'line protocol, gzip, paced', format: 'lpGzip', paced: true },
];

export interface FormatsPlan {
  /** Readings written (and not measured) before each format's measured run, to warm its fresh processes. */
  warm: number;
  /** Readings of each format's measured run. */
  readings: number;
  batch: number;
  connections: number;
  settleS: number;
  /** Readings/s offered by the paced runs (FormatsJob.rate). */
  pacedRate: number;
}

export const FORMATS_PLAN: Record<'smoke' | 'quick' | 'full', FormatsPlan> = {
  smoke: { warm: 2_000, readings: 4_000, batch: 1000, connections: 8, settleS: 60, pacedRate: 4_000 },
  quick: { warm: 20_000, readings: 100_000, batch: 1000, connections: 8, settleS: 120, pacedRate: 12_000 },
  full: { warm: 50_000, readings: 300_000, batch: 1000, connections: 8, settleS: 300, pacedRate: 12_000 },
};

/** One format's measured run. */
export interface FormatFigures {
  /** Readings acknowledged by the api (202/204) in the measured run; all of them were then found stored. */
  readings: number;
  /** Readings acknowledged ÷ time from the first request to the last answer. */
  ackedPerSec: number;
  /** Readings stored ÷ time from the first request until the worker committed the last of them. */
  storedPerSec: number;
  /** CPU (user + system) of the api and the worker ÷ readings, from the first request until all were committed. */
  cpuMicrosPerReading: number;
  apiCpuMicrosPerReading: number;
  workerCpuMicrosPerReading: number;
  /** Mean request body as sent (after gzip); 0 for the client library, whose bodies the bench does not see. */
  bodyBytes: number;
  /** The worker's flushes in the measured run, and the readings it wrote per flush (its /metrics). */
  flushes: number;
  readingsPerFlush: number;
}

export type FormatsFigures = Record<FormatRun, FormatFigures>;

/** What the stage needs of the bench: a fresh api and worker per format, on a topic and database of their own. */
export interface FormatsHost {
  start(name: string, role: 'api' | 'worker', part: FormatRun): Promise<FunnelNode>;
  stop(node: FunnelNode): Promise<void>;
  /** End offsets and the group's committed offsets of a format's topic, summed over partitions. */
  lag(part: FormatRun): Promise<{ end: number; committed: number }>;
  /** Readings stored in a format's database. */
  stored(part: FormatRun): Promise<number>;
  /** Drops a format's database (and lets the stand-in collect it). */
  drop(part: FormatRun): Promise<void>;
  /** CPU time (µs) a process has used so far. */
  cpuMicros(pid: number): number;
  /** A worker's flushes and readings written so far (funnel_flushes_total, funnel_readings_written_total). */
  flushed(worker: FunnelNode): Promise<{ flushes: number; written: number }>;
  /** Runs formats-load.ts with `job` on the generator's CPU; resolves with its result line. */
  generate(job: FormatsJob): Promise<FormatsLoadResult>;
  token: string;
  log(line: string): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the worker committed every record of the topic (or the settle time ran out); when it did. */
async function settled(host: FormatsHost, part: FormatRun, settleS: number): Promise<number | undefined> {
  const deadline = Date.now() + settleS * 1000;
  while (Date.now() < deadline) {
    const o = await host.lag(part);
    if (o.committed >= o.end) return Date.now();
    await sleep(100);
  }
  return undefined;
}

/** Runs every format (or those of `only`) and returns the figures of each. */
export async function formatsStage(
  host: FormatsHost,
  plan: FormatsPlan,
  rid: string,
  only?: string[],
): Promise<FormatsFigures> {
  const unknown = only?.filter((name) => !FORMATS.some((f) => f.name === name)) ?? [];
  if (unknown.length)
    throw new Error(`--formats: unknown ${unknown.join(', ')} (formats: ${FORMATS.map((f) => f.name).join(', ')})`);
  const figures = {} as FormatsFigures;
  // Each format's lines start an hour apart, in the last hours (inside any retention, never in the future).
  const base = Date.now() - (FORMATS.length + 1) * 3_600_000;
  for (const [i, { name, label, format, paced }] of FORMATS.entries()) {
    if (only && !only.includes(name)) continue;
    const api = await host.start(`api-formats-${name}`, 'api', name);
    const worker = await host.start(`worker-formats-${name}`, 'worker', name);
    const job = (count: number, baseTs: number): FormatsJob => ({
      url: api.url,
      token: host.token,
      format,
      count,
      batch: plan.batch,
      connections: plan.connections,
      runId: `${rid}f${i}`,
      baseTs,
      ...(paced ? { rate: plan.pacedRate } : {}),
    });
    const checked = (result: FormatsLoadResult, count: number) => {
      if (result.refused > 0 || result.acked !== count)
        throw new Error(
          `${label}: ${result.acked} of ${count} readings acknowledged, ${result.refused} requests refused (${result.firstError})`,
        );
      return result;
    };
    // Warm-up (a fresh pair of processes compiles its hot path in the first seconds), then measured.
    const warmBase = base + i * 3_600_000;
    checked(await host.generate(job(plan.warm, warmBase)), plan.warm);
    if ((await settled(host, name, plan.settleS)) === undefined)
      throw new Error(`${label}: the warm-up was not stored within ${plan.settleS} s`);
    const cpu = () => ({ api: host.cpuMicros(api.pid!), worker: host.cpuMicros(worker.pid!) });
    const flushedBefore = await host.flushed(worker);
    const before = cpu();
    const load = checked(await host.generate(job(plan.readings, warmBase + plan.warm)), plan.readings);
    const loaded = cpu();
    const settledAt = await settled(host, name, plan.settleS);
    const after = cpu();
    const flushedAfter = await host.flushed(worker);
    if (settledAt === undefined) throw new Error(`${label}: not stored within ${plan.settleS} s`);
    const stored = await host.stored(name);
    // Every reading acknowledged is stored once (the generator's lines are all different).
    if (stored !== plan.warm + plan.readings)
      throw new Error(`${label}: ${stored} readings stored, ${plan.warm + plan.readings} acknowledged`);
    const apiCpu = (after.api - before.api) / plan.readings;
    const workerCpu = (after.worker - before.worker) / plan.readings;
    const flushes = flushedAfter.flushes - flushedBefore.flushes;
    figures[name] = {
      readings: plan.readings,
      ackedPerSec: plan.readings / ((load.endedAt - load.startedAt) / 1000),
      storedPerSec: plan.readings / ((settledAt - load.startedAt) / 1000),
      cpuMicrosPerReading: apiCpu + workerCpu,
      apiCpuMicrosPerReading: apiCpu,
      workerCpuMicrosPerReading: workerCpu,
      bodyBytes: load.bodyBytes,
      flushes,
      readingsPerFlush: flushes > 0 ? (flushedAfter.written - flushedBefore.written) / flushes : 0,
    };
    host.log(
      `formats ${label}: ${Math.round(figures[name].storedPerSec)} stored/s (${Math.round(figures[name].ackedPerSec)} acked/s), ` +
        `${(apiCpu + workerCpu).toFixed(1)} µs CPU per reading (api ${apiCpu.toFixed(1)}, worker ${workerCpu.toFixed(1)}); ` +
        `${flushes} flushes of ${Math.round(figures[name].readingsPerFlush)} readings; worker µs per reading ` +
        `${((loaded.worker - before.worker) / plan.readings).toFixed(1)} until the last answer, then ` +
        `${((after.worker - loaded.worker) / plan.readings).toFixed(1)} in ${((settledAt - load.endedAt) / 1000).toFixed(1)} s`,
    );
    await host.stop(worker);
    await host.stop(api);
    await host.drop(name);
  }
  return figures;
}

const n = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The stage's rows of the bench table. */
export function formatsRows(f: FormatsFigures): Array<[string, string]> {
  return FORMATS.filter(({ name }) => f[name]).map(({ name, label }) => {
    const x = f[name];
    return [
      `formats: ${label}`,
      `${n(x.storedPerSec)} readings/s stored end to end (${n(x.ackedPerSec)}/s acked); ${n(x.cpuMicrosPerReading, 1)} µs CPU per reading (api ${n(x.apiCpuMicrosPerReading, 1)} + worker ${n(x.workerCpuMicrosPerReading, 1)}); ${n(x.flushes)} flushes of ${n(x.readingsPerFlush)}${x.bodyBytes > 0 ? `; ${n(x.bodyBytes / 1024, 1)} KB per request` : ', gzip over 1 KB (its default)'}`,
    ];
  });
}

/**
 * The issue's targets for the formats: CPU per reading, line protocol's rate beside JSON's, gzip's cost beside
 * plain; with the store's and the broker's ceilings of the same run beside the rates.
 */
export function formatsTargets(
  f: FormatsFigures,
  ceilings: { lMongoDocsPerSec: number; lKafkaReadingsPerSec: number; lMongoClientCpuMicrosPerDoc: number },
): Array<{ target: string; measured: string; pass: boolean; outOfReach?: string }> {
  // The targets compare formats: only when all of them ran.
  if (!FORMATS.every(({ name }) => f[name])) return [];
  const cpu = (name: FormatRun) => f[name].cpuMicrosPerReading;
  const lpRatio = f.json.storedPerSec > 0 ? f.lp.storedPerSec / f.json.storedPerSec : 0;
  const ratio = (gzip: FormatRun, plain: FormatRun) => (cpu(plain) > 0 ? cpu(gzip) / cpu(plain) : 0);
  // The closed-loop runs: their worker flushes at FLUSH_MAX_POINTS (a backlog), so plain and gzip'd bodies make the
  // same batches; the paced runs (one offered rate, batches set by flushDueAt) are shown beside it.
  const gzipJson = ratio('jsonGzip', 'json');
  const gzipLp = ratio('lpGzip', 'lp');
  const flushes = (gzip: FormatRun, plain: FormatRun) => `${f[gzip].flushes} vs ${f[plain].flushes} flushes`;
  return [
    {
      target: 'formats: CPU per reading (api + worker) ≤ 10 µs, JSON and line protocol',
      // The floor beside it: what the MongoDB driver alone spends per document inserted (L_mongo's process).
      measured: `JSON ${n(cpu('json'), 1)} µs, line protocol ${n(cpu('lp'), 1)} µs (influxdb-client ${n(cpu('influxClient'), 1)} µs); driver floor ${n(ceilings.lMongoClientCpuMicrosPerDoc, 1)} µs per reading inserted`,
      pass: cpu('json') <= 10 && cpu('lp') <= 10,
    },
    {
      target: 'formats: line protocol ≥ 0.8 × JSON readings/s stored',
      measured: `${n(f.lp.storedPerSec)} / ${n(f.json.storedPerSec)} = ${n(lpRatio, 2)} (L_mongo ${n(ceilings.lMongoDocsPerSec)} docs/s, L_kafka ${n(ceilings.lKafkaReadingsPerSec)} readings/s)`,
      pass: lpRatio >= 0.8,
    },
    {
      target: 'formats: gzip ≤ 1.2 × plain CPU per reading',
      measured:
        `JSON ${n(cpu('jsonGzip'), 1)} / ${n(cpu('json'), 1)} = ${n(gzipJson, 2)} (${flushes('jsonGzip', 'json')}); ` +
        `line protocol ${n(cpu('lpGzip'), 1)} / ${n(cpu('lp'), 1)} = ${n(gzipLp, 2)} (${flushes('lpGzip', 'lp')}); ` +
        `paced at ${n(f.lpPaced.ackedPerSec)}/s: JSON ${n(ratio('jsonGzipPaced', 'jsonPaced'), 2)} ` +
        `(${flushes('jsonGzipPaced', 'jsonPaced')}), line protocol ${n(ratio('lpGzipPaced', 'lpPaced'), 2)} ` +
        `(${flushes('lpGzipPaced', 'lpPaced')})`,
      pass: gzipJson <= 1.2 && gzipLp <= 1.2,
    },
  ];
}
