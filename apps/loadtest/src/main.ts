// The load tool's entry point: runs producers, query users and the freshness probe, then reconciles and reports.
import { writeFile } from 'node:fs/promises';

import { hideBin } from 'yargs/helpers';

import { parseOptions, type LoadtestOptions } from './cli.js';
import { FreshnessProbe } from './freshness.js';
import { Producers } from './producers.js';
import { Progress } from './progress.js';
import { QueryUsers } from './queries.js';
import { AggregatesCounter, MongoCounter, settle, type StoredCounter } from './reconcile.js';
import { formatReport, type LoadtestReport } from './report.js';
import { round3, Samples } from './samples.js';
import { evaluateSlo, parseSlo, SloSyntaxError } from './slo.js';
import { Workload } from './workload.js';

/** Margin around the run's time span for the queries, so readings stamped by the api's clock fall inside. */
const SPAN_MARGIN_MS = 5 * 60_000;

async function run(opts: LoadtestOptions): Promise<LoadtestReport> {
  const slos = parseSlo(opts.slo ?? '');
  const health = await fetch(`${opts.target}/health/live`).catch((error: Error) => {
    throw new Error(`cannot reach ${opts.target}: ${error.message}`);
  });
  if (health.status !== 200) throw new Error(`${opts.target}/health/live answered ${health.status}`);

  const headers: Record<string, string> = opts.token ? { authorization: `Bearer ${opts.token}` } : {};
  const workload = new Workload(opts.runId, opts.sensors, opts.metricsPerSensor);
  const startMs = Date.now();
  const startedAt = new Date(startMs).toISOString();
  const producers = new Producers({
    target: opts.target,
    headers,
    bodies: workload.bodies(opts.batch),
    connections: opts.connections,
    requestRate: opts.rate / opts.batch,
    durationS: opts.duration,
    warmupS: opts.warmup,
    timeoutS: opts.timeout,
  });
  const queries =
    opts.queryUsers > 0
      ? new QueryUsers(
          {
            target: opts.target,
            headers,
            users: opts.queryUsers,
            rate: opts.queryRate,
            durationS: opts.warmup + opts.duration,
            timeoutS: opts.timeout,
            from: startMs - SPAN_MARGIN_MS,
            to: startMs + (opts.warmup + opts.duration) * 1000 + SPAN_MARGIN_MS,
          },
          workload,
        )
      : undefined;
  const freshness = new FreshnessProbe(
    {
      target: opts.target,
      headers,
      intervalMs: opts.freshnessInterval,
      timeoutMs: opts.freshnessTimeout,
      pollMs: opts.freshnessPoll,
    },
    workload,
    startMs,
  );
  const progress = new Progress(opts.warmup + opts.duration, opts.progressInterval, () => ({
    elapsedS: producers.runningS,
    readingsAccepted: producers.readingsAccepted,
    requests: producers.requests,
    errors: producers.statuses.errors,
    queries: queries?.statuses.total ?? 0,
    freshnessSeen: freshness.ms.count,
  }));

  progress.start();
  freshness.start();
  await Promise.all([producers.run(), queries?.run()]);
  await freshness.stopSending();
  progress.stop();
  // Markers still waiting to be seen and the reconciliation are both waits for the pipeline: they run side
  // by side, and settledMs counts from the end of the load.
  const loadEndedAt = performance.now();
  const freshnessDone = freshness.finished();

  const accepted = producers.readingsAccepted + freshness.markersAccepted;
  let reconciliation: LoadtestReport['reconciliation'] = {
    method: 'skipped',
    accepted,
    stored: null,
    missing: null,
    settledMs: null,
    ok: null,
  };
  if (opts.reconcile) {
    const counter: StoredCounter = opts.mongodbUri
      ? new MongoCounter(opts.mongodbUri, opts.mongodbCollection, workload)
      : new AggregatesCounter(
          opts.target,
          workload,
          () => ({
            from: freshness.base - SPAN_MARGIN_MS,
            to: Date.now() + SPAN_MARGIN_MS,
          }),
          headers,
        );
    progress.note(`[loadtest] load done; waiting for ${accepted} accepted readings to be stored (${counter.method})`);
    try {
      const { stored } = await settle(counter, accepted, opts.settleTimeout);
      const settledMs = performance.now() - loadEndedAt;
      reconciliation = {
        method: counter.method,
        accepted,
        stored,
        missing: accepted - stored,
        settledMs: Math.round(settledMs),
        // With POSTs of unknown fate (timeouts), up to that many more readings may rightly be stored.
        ok: stored >= accepted && stored <= accepted + producers.unknownFate * opts.batch,
      };
    } finally {
      await counter.close();
    }
  }

  await freshnessDone;

  const measuredS = producers.measured.elapsedS;
  const report: LoadtestReport = {
    runId: opts.runId,
    target: opts.target,
    startedAt,
    settings: {
      duration: opts.duration,
      warmup: opts.warmup,
      connections: opts.connections,
      sensors: opts.sensors,
      metricsPerSensor: opts.metricsPerSensor,
      batch: opts.batch,
      rate: opts.rate,
      queryUsers: opts.queryUsers,
      queryRate: opts.queryRate,
      freshnessInterval: opts.freshnessInterval,
    },
    ingest: {
      elapsedS: round3(producers.elapsedS),
      measuredS: round3(measuredS),
      requests: producers.requests,
      readingsAccepted: producers.readingsAccepted,
      readingsPerSec: round3(producers.measured.readingsAccepted / measuredS),
      requestsPerSec: round3(producers.measured.accepted / measuredS),
      latencyMs: producers.latency.percentiles(),
      statuses: producers.statuses.counts,
      errors: producers.statuses.errors,
    },
    freshness: {
      markers: freshness.markersAccepted,
      visible: freshness.ms.count,
      notVisible: freshness.notVisible,
      ms: freshness.ms.percentiles(),
    },
    queries: {
      requests: queries?.statuses.total ?? 0,
      perSec: queries ? round3(queries.statuses.total / Math.max(queries.elapsedS, 0.001)) : 0,
      latencyMs: (queries?.latency ?? new Samples()).percentiles(),
      statuses: queries?.statuses.counts ?? {},
      errors: queries?.statuses.errors ?? 0,
    },
    reconciliation,
    slo: [],
    passed: true,
  };
  report.slo = evaluateSlo(slos, report);
  report.passed = report.slo.every((s) => s.pass) && reconciliation.ok !== false;
  return report;
}

async function main(): Promise<number> {
  const opts = parseOptions(hideBin(process.argv), `lt${Date.now().toString(36)}`);
  let report: LoadtestReport;
  try {
    report = await run(opts);
  } catch (error) {
    process.stderr.write(`loadtest: ${(error as Error).message}\n`);
    return error instanceof SloSyntaxError ? 2 : 3;
  }
  process.stdout.write(`${formatReport(report)}\n`);
  if (opts.json) await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
  if (report.reconciliation.ok === false) {
    process.stderr.write('loadtest: readings accepted and readings stored differ\n');
  }
  if (report.slo.some((s) => !s.pass)) process.stderr.write('loadtest: SLO missed\n');
  return report.passed ? 0 : 1;
}

process.exitCode = await main();
