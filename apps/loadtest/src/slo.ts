// Parses --slo thresholds and judges a run's report against them.
import type { LoadtestReport } from './report.js';

/** One threshold from --slo and how the run measured up to it. */
export interface SloResult {
  expr: string;
  actual: number | null;
  pass: boolean;
}

type Op = '<' | '<=' | '>' | '>=' | '=';

export interface Slo {
  expr: string;
  metric: string;
  op: Op;
  /** Threshold, in ms for time metrics. */
  value: number;
}

/** The figures an SLO may name; times are in ms. */
const METRICS: Record<string, { time: boolean; read: (r: LoadtestReport) => number | null }> = {
  p50: { time: true, read: (r) => r.ingest.latencyMs.p50 },
  p99: { time: true, read: (r) => r.ingest.latencyMs.p99 },
  p999: { time: true, read: (r) => r.ingest.latencyMs.p999 },
  errors: { time: false, read: (r) => r.ingest.errors },
  readings_per_sec: { time: false, read: (r) => r.ingest.readingsPerSec },
  requests_per_sec: { time: false, read: (r) => r.ingest.requestsPerSec },
  freshness_p50: { time: true, read: (r) => r.freshness.ms.p50 },
  freshness_p99: { time: true, read: (r) => r.freshness.ms.p99 },
  query_p50: { time: true, read: (r) => r.queries.latencyMs.p50 },
  query_p99: { time: true, read: (r) => r.queries.latencyMs.p99 },
  query_p999: { time: true, read: (r) => r.queries.latencyMs.p999 },
  query_errors: { time: false, read: (r) => r.queries.errors },
  missing: { time: false, read: (r) => r.reconciliation.missing },
};

const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000 };
const TERM = /^\s*([a-z_0-9.]+)\s*(<=|>=|==|<|>|=)\s*(\d+(?:\.\d+)?)\s*(us|µs|ms|s)?\s*$/;

/** Thrown for an --slo that cannot be understood; names the term and what is allowed. */
export class SloSyntaxError extends Error {
  constructor(term: string, reason: string) {
    super(`--slo "${term}": ${reason}`);
    this.name = 'SloSyntaxError';
  }
}

/** Parses `p99<50ms,errors=0,freshness_p99<=2s` (p99.9 may be written p99.9 or p999). */
export function parseSlo(spec: string): Slo[] {
  return spec
    .split(',')
    .filter((t) => t.trim() !== '')
    .map((term) => {
      const m = TERM.exec(term);
      if (!m) throw new SloSyntaxError(term, 'expected <metric><op><number>[us|ms|s], e.g. p99<50ms');
      const metric = m[1]!.replace('p99.9', 'p999');
      const known = METRICS[metric];
      if (!known) throw new SloSyntaxError(term, `unknown metric; one of ${Object.keys(METRICS).join(', ')}`);
      if (m[4] && !known.time) throw new SloSyntaxError(term, `${metric} is a count, not a time`);
      const op = (m[2] === '==' ? '=' : m[2]) as Op;
      const value = Number(m[3]) * (known.time ? UNIT_MS[m[4] ?? 'ms']! : 1);
      return { expr: term.trim(), metric, op, value };
    });
}

/** Checks each SLO against the report; a figure the run did not measure fails its SLO. */
export function evaluateSlo(slos: Slo[], report: LoadtestReport): SloResult[] {
  return slos.map((s) => {
    const actual = METRICS[s.metric]!.read(report);
    if (actual === null) return { expr: s.expr, actual, pass: false };
    const pass =
      s.op === '<'
        ? actual < s.value
        : s.op === '<='
          ? actual <= s.value
          : s.op === '>'
            ? actual > s.value
            : s.op === '>='
              ? actual >= s.value
              : actual === s.value;
    return { expr: s.expr, actual, pass };
  });
}
