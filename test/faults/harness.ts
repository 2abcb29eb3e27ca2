// Runs one fault scenario: its processes, load, fault steps, checks and reconciliation.
import path from 'node:path';

import { freePort, sleep } from '@funnel/dev-infra';

import { FunnelNode, graceful } from './funnel-node.js';
import type { FaultInfra, Offsets } from './infra.js';
import { Dataset, Ledger, LoadGenerator, type LoadOptions } from './load.js';
import { compareAggregates, readStored, reconcile, type Reconciliation } from './reconcile.js';

/** Sizes and timings of a run. `full` is the default of `npm run test:faults`, `short` is what jest runs. */
export interface Profile {
  name: 'full' | 'quick' | 'short';
  /** Readings per scenario. */
  readings: number;
  /** Typical readings per request. */
  batch: number;
  concurrency: number;
  /** The load of a scenario is spread over this long, so that the fault happens in the middle of it. */
  loadMs: number;
  /** FLUSH_INTERVAL_MS in normal operation. */
  flushMs: number;
  /** How long the broker or MongoDB stays down. */
  outageMs: number;
  /** Scenario 8: readings pushed at a slow MongoDB, and the worker's BUFFER_HIGH_WATER. */
  slowReadings: number;
  highWater: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    readings: 4000,
    batch: 40,
    concurrency: 6,
    loadMs: 14_000,
    flushMs: 400,
    outageMs: 8000,
    slowReadings: 30_000,
    highWater: 2000,
  },
  quick: {
    name: 'quick',
    readings: 1500,
    batch: 30,
    concurrency: 4,
    loadMs: 8000,
    flushMs: 400,
    outageMs: 6000,
    slowReadings: 12_000,
    highWater: 1000,
  },
  short: {
    name: 'short',
    readings: 800,
    batch: 25,
    concurrency: 4,
    loadMs: 6000,
    flushMs: 400,
    outageMs: 5000,
    slowReadings: 8000,
    highWater: 1000,
  },
};

export interface SuiteContext {
  infra: FaultInfra;
  profile: Profile;
  /** Where the scenario's process logs go. */
  runDir: string;
  /** Unique per run: names of topics, groups and databases. */
  runTag: string;
  log: (line: string) => void;
}

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ScenarioResult extends Omit<Reconciliation, 'expected' | 'samples'> {
  key: string;
  name: string;
  aggregates: 'ok' | 'mismatch' | 'not checked';
  elapsedMs: number;
  checks: Check[];
  /** Timeline and measurements. */
  notes: string[];
  logs: string[];
  /** For a failed scenario: the interesting lines of every process log. */
  evidence: string[];
  passed: boolean;
}

/**
 * One scenario's world: its own topic, consumer group and database, its processes, the readings it sends,
 * the ledger of answers, its checks and timeline. finish() waits until the pipeline has caught up, then
 * reconciles MongoDB against the ledger and compares aggregates.
 */
export class ScenarioRun {
  readonly topic: string;
  readonly group: string;
  readonly db: string;
  readonly dataset: Dataset;
  readonly ledger: Ledger;
  readonly nodes: FunnelNode[] = [];
  readonly checks: Check[] = [];
  readonly notes: string[] = [];
  private readonly started = Date.now();
  private readonly allowedExits = new Set<FunnelNode>();
  private finishing = false;

  constructor(
    readonly ctx: SuiteContext,
    readonly key: string,
    readonly name: string,
    readings = ctx.profile.readings,
  ) {
    const id = `${ctx.runTag}-s${key}`;
    this.topic = `funnel.faults.${id}`;
    this.group = `funnel-faults-${id}`;
    this.db = `faults_${id.replace(/-/g, '_')}`;
    // Two hours back, well inside MAX_FUTURE_SKEW_MS, on a minute boundary.
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 3_600_000;
    this.dataset = new Dataset(`f${key}-${ctx.runTag}`, base, readings, 1000 + Number(key));
    this.ledger = new Ledger(this.dataset);
  }

  get profile(): Profile {
    return this.ctx.profile;
  }

  get infra(): FaultInfra {
    return this.ctx.infra;
  }

  /** Seconds since the scenario started, for the timeline. */
  get t(): string {
    return `t+${((Date.now() - this.started) / 1000).toFixed(1)}s`;
  }

  /** Settings every process of the scenario shares (the spec's setting names). */
  env(changes: Record<string, string> = {}): Record<string, string> {
    return {
      KAFKA_BROKERS: this.infra.brokers,
      KAFKA_TOPIC: this.topic,
      KAFKA_GROUP_ID: this.group,
      MONGODB_URI: this.infra.mongoUri(this.db),
      FLUSH_INTERVAL_MS: String(this.profile.flushMs),
      FLUSH_MAX_POINTS: '1000',
      ...changes,
    };
  }

  event(label: string): void {
    this.notes.push(`${this.t} ${label}`);
    this.ctx.log(`  [${this.key}] ${this.t} ${label}`);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  check(name: string, ok: boolean, detail?: string): boolean {
    this.checks.push({ name, ok, ...(detail ? { detail } : {}) });
    if (!ok) this.ctx.log(`  [${this.key}] CHECK FAILED: ${name}${detail ? ` — ${detail}` : ''}`);
    return ok;
  }

  /** The topic exists before any process starts, so a poison producer and every process see the same 3 partitions. */
  async createTopic(): Promise<void> {
    await this.infra.createTopic(this.topic, 3);
  }

  private async node(role: 'api' | 'worker', env: Record<string, string>, allowExit: boolean): Promise<FunnelNode> {
    const n = this.nodes.filter((x) => x.role === role).length + 1;
    const name = `${role}-${n}`;
    const node = new FunnelNode(
      name,
      role,
      this.env(env),
      await freePort(),
      path.join(this.ctx.runDir, `s${this.key}-${this.name}`, `${name}.log`),
    );
    if (allowExit) this.allowedExits.add(node);
    // A process that dies on its own is restarted, as a supervisor would, so the scenario can still be
    // reconciled; whether that exit was acceptable is a check.
    node.on('exit', (info: { expected: boolean; code: number | null; signal: string | null }) => {
      if (info.expected || this.finishing) return;
      this.event(`${name} exited on its own (${info.signal ?? `code ${info.code}`}); restarting it`);
      if (!this.allowedExits.has(node)) {
        this.check(`${name} does not exit on its own`, false, `exit ${info.signal ?? info.code}:\n${node.tail(15)}`);
      }
      setTimeout(() => {
        if (!node.running && !this.finishing) node.start();
      }, 1000);
    });
    this.nodes.push(node);
    node.start();
    return node;
  }

  /** Starts an api process and waits until it is ready. */
  async startApi(env: Record<string, string> = {}, allowExit = false): Promise<FunnelNode> {
    const api = await this.node('api', env, allowExit);
    await api.waitReady();
    return api;
  }

  /** Starts a worker process; waits until ready unless `wait` is false. */
  async startWorker(env: Record<string, string> = {}, { wait = true, allowExit = false } = {}): Promise<FunnelNode> {
    const worker = await this.node('worker', env, allowExit);
    if (wait) await worker.waitReady();
    return worker;
  }

  /** Restarts a stopped process (same port and log file) and waits until it is ready. */
  async restart(node: FunnelNode, env: Record<string, string> = {}): Promise<number> {
    node.start(env);
    const ms = await node.waitReady(120_000);
    this.event(`${node.name} ready again after ${(ms / 1000).toFixed(1)} s`);
    return ms;
  }

  /** Load against an api process, over the whole dataset unless from/to say otherwise. */
  load(api: FunnelNode, opts: Partial<LoadOptions> = {}): LoadGenerator {
    return new LoadGenerator(this.ledger, {
      api: () => api.url,
      from: 0,
      to: this.dataset.readings.length,
      batch: this.profile.batch,
      concurrency: this.profile.concurrency,
      durationMs: this.profile.loadMs,
      ...opts,
    });
  }

  /** Documents stored so far (0 if MongoDB does not answer). */
  async storedCount(): Promise<number> {
    try {
      return await this.infra.client.db(this.db).collection('points').countDocuments({}, { maxTimeMS: 5000 });
    } catch {
      return 0;
    }
  }

  async offsets(): Promise<Offsets | undefined> {
    try {
      return await this.infra.offsets(this.topic, this.group);
    } catch {
      return undefined;
    }
  }

  /**
   * Waits until the pipeline has caught up: every record committed by the group (so no replay is still
   * due), no acked reading missing, and the stored count unchanged for a few flush intervals (so a late
   * duplicate would show). Returns the last reconciliation.
   */
  async settle(timeoutMs = 150_000): Promise<Reconciliation> {
    const quietMs = Math.max(3000, 5 * this.profile.flushMs);
    const deadline = Date.now() + timeoutMs;
    let last: Reconciliation | undefined;
    let lastOffsets: Offsets | undefined;
    let count = -1;
    let stableSince = Date.now();
    for (;;) {
      lastOffsets = (await this.offsets()) ?? lastOffsets;
      try {
        last = reconcile(this.ledger, await readStored(this.infra.client, this.db));
      } catch (error) {
        this.ctx.log(`  [${this.key}] reading MongoDB failed: ${(error as Error).message}`);
      }
      if (last && last.stored !== count) {
        count = last.stored;
        stableSince = Date.now();
      }
      const caughtUp = lastOffsets?.lag === 0;
      if (last && caughtUp && last.lost === 0 && Date.now() - stableSince >= quietMs) break;
      if (Date.now() > deadline) {
        this.check(
          'pipeline caught up (all records committed, every acked reading stored)',
          false,
          `after ${timeoutMs / 1000} s: lag ${lastOffsets ? `${lastOffsets.lag} records ${JSON.stringify(lastOffsets.perPartition)}` : 'unknown'}, lost ${last?.lost ?? '?'}`,
        );
        break;
      }
      await sleep(500);
    }
    if (!last) throw new Error('could not read MongoDB at all');
    return last;
  }

  /**
   * Lets the pipeline catch up, reconciles, compares aggregates. `afterSettle` adds the scenario's own
   * checks at the point where everything has been consumed.
   */
  async finish(api: FunnelNode, afterSettle?: (rec: Reconciliation) => Promise<void>): Promise<ScenarioResult> {
    const rec = await this.settle();
    if (afterSettle) await afterSettle(rec);
    this.finishing = true;
    let aggregates: ScenarioResult['aggregates'] = 'not checked';
    if (api.running) {
      const problems = await compareAggregates(api.url, rec.expected, this.dataset.span);
      aggregates = problems.length === 0 ? 'ok' : 'mismatch';
      this.check('aggregates equal an independent calculation', problems.length === 0, problems.slice(0, 5).join('\n'));
    } else {
      this.check('api running at the end (for aggregates)', false);
    }
    // SIGTERM on either role: a graceful stop within the bound (SHUTDOWN_TIMEOUT_MS defaults to 30 s).
    for (const node of this.nodes.filter((n) => n.running)) {
      const exit = await node.terminate(45_000);
      const ok = graceful(exit) && (exit?.ms ?? Infinity) <= 30_000;
      this.check(`${node.name} stops gracefully on SIGTERM within 30 s`, ok, JSON.stringify(exit));
    }
    const counts = this.ledger.statusCounts();
    this.note(
      `answers: ${Object.entries(counts)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ')}; ${this.ledger.count('failed')} readings never acked`,
    );
    this.check('no acked reading lost', rec.lost === 0, rec.samples.lost.join(', '));
    this.check('no reading stored twice', rec.duplicated === 0, rec.samples.duplicated.join('; '));
    this.check('nothing stored that was not sent', rec.foreign === 0, rec.samples.foreign.join('; '));
    this.check('stored ids and values as sent', rec.corrupted === 0, rec.samples.corrupted.join('; '));
    this.check(
      'api answers as documented for valid readings',
      this.ledger.anomalies.length === 0,
      this.ledger.anomalies.slice(0, 5).join('\n'),
    );
    return this.result(rec, aggregates);
  }

  private result(rec: Reconciliation, aggregates: ScenarioResult['aggregates']): ScenarioResult {
    const passed = this.checks.every((c) => c.ok);
    const evidence = passed
      ? []
      : this.nodes.flatMap((n) => [
          `--- ${n.name} (${n.logFile}): warnings/errors`,
          // The stand-in's "no time-series collection" warning is expected noise here.
          ...n
            .grep(/\b(ERROR|WARN|error|fatal|unwritten|exit)\b/, 40)
            .filter((l) => !/time-series collection/.test(l))
            .slice(0, 25),
          `--- ${n.name}: last lines`,
          n.tail(12),
        ]);
    return {
      key: this.key,
      name: this.name,
      acked: rec.acked,
      stored: rec.stored,
      lost: rec.lost,
      duplicated: rec.duplicated,
      unackedStored: rec.unackedStored,
      foreign: rec.foreign,
      corrupted: rec.corrupted,
      aggregates,
      elapsedMs: Date.now() - this.started,
      checks: this.checks,
      notes: this.notes,
      logs: this.nodes.map((n) => n.logFile),
      evidence,
      passed,
    };
  }

  /** The scenario threw: reconcile what there is, without waiting, and report the error as a failed check. */
  async abort(error: Error): Promise<ScenarioResult> {
    this.finishing = true;
    this.check('scenario ran to the end', false, error.stack ?? error.message);
    let rec: Reconciliation;
    try {
      rec = reconcile(this.ledger, await readStored(this.infra.client, this.db));
    } catch {
      rec = reconcile(this.ledger, []);
    }
    return this.result(rec, 'not checked');
  }

  /** Stops whatever is still running (SIGTERM, so the logs end cleanly). */
  async teardown(): Promise<void> {
    this.finishing = true;
    await Promise.all(this.nodes.map((n) => n.terminate(30_000)));
  }
}
