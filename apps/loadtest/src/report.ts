// The load tool's report: counts, rates and latencies of one run, as text and JSON.
import type { LoadtestOptions } from './cli.js';
import type { Percentiles } from './samples.js';
import type { SloResult } from './slo.js';

/** Counts per answer: HTTP status codes, "timeout" and "error" (no HTTP answer). */
export type StatusCounts = Record<string, number>;

export interface LoadtestReport {
  runId: string;
  target: string;
  startedAt: string;
  settings: Pick<
    LoadtestOptions,
    | 'duration'
    | 'warmup'
    | 'connections'
    | 'sensors'
    | 'metricsPerSensor'
    | 'batch'
    | 'rate'
    | 'queryUsers'
    | 'queryRate'
    | 'freshnessInterval'
  >;
  ingest: {
    /** Seconds of load until the last POST was answered, warm-up included. */
    elapsedS: number;
    /** The part of elapsedS after the warm-up: readingsPerSec, requestsPerSec and latencyMs cover it. */
    measuredS: number;
    requests: number;
    /** Every reading answered 202, warm-up included. */
    readingsAccepted: number;
    readingsPerSec: number;
    requestsPerSec: number;
    /** With a --rate, from each request's due time (see apps/loadtest/src/pacing.ts). */
    latencyMs: Percentiles;
    statuses: StatusCounts;
    /** Requests that did not end in a 2xx (non-2xx answers, timeouts, connection errors). */
    errors: number;
  };
  freshness: {
    markers: number;
    visible: number;
    /** Markers accepted but not visible within --freshness-timeout. */
    notVisible: number;
    /** From sending the marker's POST until the first query that sees it, ms. */
    ms: Percentiles;
  };
  queries: {
    requests: number;
    perSec: number;
    latencyMs: Percentiles;
    statuses: StatusCounts;
    errors: number;
  };
  reconciliation: {
    method: 'mongodb' | 'aggregates' | 'skipped';
    accepted: number;
    stored: number | null;
    missing: number | null;
    /** Time from the end of the load until stored reached accepted (or the settle timeout), ms. */
    settledMs: number | null;
    ok: boolean | null;
  };
  slo: SloResult[];
  passed: boolean;
}

const fmt = (n: number | null | undefined, digits = 1) =>
  n === null || n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

const pct = (p: Percentiles) => `p50 ${fmt(p.p50, 2)} · p99 ${fmt(p.p99, 2)} · p99.9 ${fmt(p.p999, 2)} ms`;

const statuses = (s: StatusCounts) =>
  Object.keys(s).length === 0
    ? 'none'
    : Object.entries(s)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');

/** The human-readable report printed at the end of a run. */
export function formatReport(r: LoadtestReport): string {
  const lines = [
    `Funnel load test ${r.runId} against ${r.target} (${fmt(r.ingest.elapsedS, 1)} s${r.settings.warmup > 0 ? `, measured after ${fmt(r.settings.warmup)} s of warm-up` : ''})`,
    `  ingest       ${fmt(r.ingest.readingsPerSec, 0)} readings/s accepted (${fmt(r.ingest.requestsPerSec, 0)} req/s, ${r.settings.batch}/request, ${r.settings.connections} connections${r.settings.rate > 0 ? `, paced to ${fmt(r.settings.rate, 0)} readings/s` : ''})`,
    `  latency      ${pct(r.ingest.latencyMs)}${r.settings.rate > 0 ? " (from each request's due time)" : ''}`,
    `  answers      ${statuses(r.ingest.statuses)} · errors ${r.ingest.errors}`,
    `  freshness    ${
      r.freshness.markers === 0
        ? 'not sampled'
        : `p50 ${fmt(r.freshness.ms.p50, 0)} · p99 ${fmt(r.freshness.ms.p99, 0)} ms (${r.freshness.visible}/${r.freshness.markers} markers seen)`
    }`,
    `  queries      ${
      r.queries.requests === 0
        ? 'none'
        : `${fmt(r.queries.perSec, 0)}/s · ${pct(r.queries.latencyMs)} · ${statuses(r.queries.statuses)}`
    }`,
    `  reconcile    ${
      r.reconciliation.method === 'skipped'
        ? 'skipped'
        : `accepted ${r.reconciliation.accepted} · stored ${r.reconciliation.stored ?? '?'} (${r.reconciliation.method}) · ${
            r.reconciliation.ok ? 'OK' : `MISMATCH, missing ${r.reconciliation.missing}`
          } after ${fmt(r.reconciliation.settledMs, 0)} ms`
    }`,
  ];
  for (const s of r.slo) {
    lines.push(`  slo          ${s.expr}: ${s.pass ? 'met' : 'MISSED'} (actual ${fmt(s.actual, 3)})`);
  }
  return lines.join('\n');
}
