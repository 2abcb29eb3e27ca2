/** What one Funnel process's /metrics scrape and /health/ready answer say about the pipeline, as plain numbers. */
import { Scrape } from '@funnel/dev-infra';

/** A histogram's observations so far: how many, their mean and upper bounds of the median and 95th percentile. */
export interface LatencySummary {
  count: number;
  meanSeconds: number | null;
  p50Seconds: number | null;
  p95Seconds: number | null;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/** One process (this api, or a worker named in PIPELINE_WORKER_URLS). Counters are totals since it started. */
export interface ProcessStatus {
  url: string;
  /** funnel_build_info's role label; null when the process could not be scraped. */
  role: string | null;
  version: string | null;
  /** Whether GET /metrics answered. */
  reachable: boolean;
  /** Why it was not, when it was not. */
  error?: string;
  /** `ok`, `error` (a dependency is down) or `unreachable`, with each readiness check's answer. */
  health: { status: 'ok' | 'error' | 'unreachable'; checks: Record<string, { status: string }> };
  readingsAccepted: number;
  readingsConsumed: number;
  readingsWritten: number;
  deadLetters: number;
  bufferReadings: number | null;
  consumerLag: PartitionLag[];
  flush: LatencySummary;
  endToEnd: LatencySummary;
}

const NOTHING = Scrape.parse('');

function latency(scrape: Scrape, name: string): LatencySummary {
  const count = scrape.sum(`${name}_count`);
  const quantile = (q: number) => {
    const bound = scrape.quantileSince(NOTHING, name, q);
    return bound === null || !Number.isFinite(bound) ? null : bound;
  };
  return {
    count,
    meanSeconds: count > 0 ? scrape.sum(`${name}_sum`) / count : null,
    p50Seconds: quantile(0.5),
    p95Seconds: quantile(0.95),
  };
}

type Health = ProcessStatus['health'];

/** The pipeline numbers of one process from its scrape (undefined: it did not answer) and readiness answer. */
export function summarizeProcess(
  url: string,
  scrape: Scrape | undefined,
  health: Health,
  error?: string,
): ProcessStatus {
  const s = scrape ?? NOTHING;
  const build = s.all('funnel_build_info')[0]?.labels;
  return {
    url,
    role: build?.role ?? null,
    version: build?.version ?? null,
    reachable: scrape !== undefined,
    ...(error === undefined ? {} : { error }),
    health,
    readingsAccepted: s.sum('funnel_readings_accepted_total'),
    readingsConsumed: s.sum('funnel_readings_consumed_total'),
    readingsWritten: s.sum('funnel_readings_written_total'),
    deadLetters: s.sum('funnel_dead_letters_total'),
    bufferReadings: s.has('funnel_buffer_readings') ? s.value('funnel_buffer_readings') : null,
    consumerLag: s
      .all('funnel_consumer_lag')
      .map((sample) => ({
        topic: sample.labels.topic ?? '',
        partition: Number(sample.labels.partition),
        lag: sample.value,
      }))
      .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    flush: latency(s, 'funnel_flush_duration_seconds'),
    endToEnd: latency(s, 'funnel_end_to_end_latency_seconds'),
  };
}
