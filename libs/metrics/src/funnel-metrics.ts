import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

import type { FunnelRole } from '@funnel/config';

import { WeightedHistogram } from './weighted-histogram.js';

/** Latency buckets (seconds) for HTTP requests and Kafka sends: 1 ms to 10 s. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/**
 * Buckets (seconds) for flushes and end-to-end latency, which include the flush interval: 5 ms to 2 min,
 * finer around the default FLUSH_INTERVAL_MS (2 s), so "within the flush interval + 250 ms" can be read off.
 */
const SLOW_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.25, 2.5, 3, 5, 10, 30, 60, 120];
/** Readings per flush. */
const SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000];

/** Consumer lag of one partition, as the worker's lag monitor samples it. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Every metric Funnel exports, in one registry. The api and the worker register only their own
 * metrics (plus the shared ones); feature code increments these fields directly.
 */
export class FunnelMetrics {
  readonly registry = new Registry();

  // api
  readonly httpRequests = new Counter({
    name: 'funnel_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [],
  });
  readonly httpDuration = new Histogram({
    name: 'funnel_http_request_duration_seconds',
    help: 'HTTP request latency in seconds, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: FAST_BUCKETS,
    registers: [],
  });
  readonly readingsAccepted = new Counter({
    name: 'funnel_readings_accepted_total',
    help: 'Readings acknowledged by Kafka and answered 202',
    registers: [],
  });
  readonly readingsRejected = new Counter({
    name: 'funnel_readings_rejected_total',
    help: 'Readings not accepted, by reason (invalid_<field>, unknown_field, not_an_object, in_invalid_request, too_many, backpressure, kafka_unavailable)',
    labelNames: ['reason'] as const,
    registers: [],
  });
  readonly kafkaSendDuration = new Histogram({
    name: 'funnel_kafka_send_duration_seconds',
    help: 'Time from a produce call to its acknowledgement (acks=all), by result; one call carries the readings of every request queued meanwhile',
    labelNames: ['result'] as const,
    buckets: FAST_BUCKETS,
    registers: [],
  });
  readonly kafkaSendFailures = new Counter({
    name: 'funnel_kafka_send_failures_total',
    help: 'Produce calls Kafka did not acknowledge',
    registers: [],
  });
  readonly backpressureRefusals = new Counter({
    name: 'funnel_backpressure_refusals_total',
    help: 'Requests answered 503 because MAX_INFLIGHT_POINTS readings were already awaiting the broker',
    registers: [],
  });
  readonly inFlight = new Gauge({
    name: 'funnel_kafka_inflight_readings',
    help: 'Readings sent to Kafka and not acknowledged yet',
    registers: [],
  });

  // worker
  readonly recordsConsumed = new Counter({
    name: 'funnel_records_consumed_total',
    help: 'Kafka records taken into the buffer (redeliveries of a record already buffered are not counted)',
    registers: [],
  });
  readonly readingsConsumed = new Counter({
    name: 'funnel_readings_consumed_total',
    help: 'Readings taken into the buffer from Kafka',
    registers: [],
  });
  readonly consumerLag: Gauge<'topic' | 'partition'> = new Gauge({
    name: 'funnel_consumer_lag',
    help: 'Records not yet committed by the consumer group, per partition assigned to this worker',
    labelNames: ['topic', 'partition'] as const,
    registers: [],
    collect: async () => {
      const lags = (await this.lagSource?.()) ?? [];
      this.consumerLag.reset();
      for (const { topic, partition, lag } of lags) this.consumerLag.set({ topic, partition }, lag);
    },
  });
  readonly bufferReadings: Gauge = new Gauge({
    name: 'funnel_buffer_readings',
    help: 'Readings buffered in the worker, waiting for a flush',
    registers: [],
    collect: (): void => this.bufferReadings.set(this.bufferSource?.() ?? 0),
  });
  readonly flushes = new Counter({
    name: 'funnel_flushes_total',
    help: 'Batches written to MongoDB and committed',
    registers: [],
  });
  readonly flushSize = new Histogram({
    name: 'funnel_flush_size_readings',
    help: 'Readings inserted per successful flush',
    buckets: SIZE_BUCKETS,
    registers: [],
  });
  readonly flushDuration = new Histogram({
    name: 'funnel_flush_duration_seconds',
    help: 'Time to write one batch (fence, id check, insertMany, dead letters), by result',
    labelNames: ['result'] as const,
    buckets: SLOW_BUCKETS,
    registers: [],
  });
  readonly readingsWritten = new Counter({
    name: 'funnel_readings_written_total',
    help: 'Readings inserted into MongoDB',
    registers: [],
  });
  readonly writeErrors = new Counter({
    name: 'funnel_write_errors_total',
    help: 'Batch writes that failed (the batch is kept and retried with backoff; nothing is committed)',
    registers: [],
  });
  readonly writeRetries = new Counter({
    name: 'funnel_write_retries_total',
    help: 'Batch writes attempted after a failed one',
    registers: [],
  });
  readonly deadLetters = new Counter({
    name: 'funnel_dead_letters_total',
    help: 'Kafka records sent to the dead-letter topic',
    registers: [],
  });
  readonly duplicatesDropped = new Counter({
    name: 'funnel_duplicates_dropped_total',
    help: 'Readings not written because their id was already stored (replays, client retries)',
    registers: [],
  });
  readonly fencedRecords = new Counter({
    name: 'funnel_fenced_records_total',
    help: 'Records left to another worker that claimed their partition',
    registers: [],
  });
  readonly endToEndLatency = new WeightedHistogram(
    'funnel_end_to_end_latency_seconds',
    'Time from receipt of a reading at the api to its write in MongoDB, one observation per reading',
    SLOW_BUCKETS,
  );

  // both
  readonly buildInfo = new Gauge({
    name: 'funnel_build_info',
    help: 'Always 1; labels carry the version, the role and the Node.js version',
    labelNames: ['version', 'role', 'node'] as const,
    registers: [],
  });

  private lagSource?: () => Promise<PartitionLag[] | undefined>;
  private bufferSource?: () => number;

  constructor(
    readonly role: FunnelRole,
    readonly version: string,
  ) {
    const api = role !== 'worker';
    const worker = role !== 'api';
    const mine: Metric[] = [this.buildInfo];
    if (api) {
      mine.push(
        this.httpRequests,
        this.httpDuration,
        this.readingsAccepted,
        this.readingsRejected,
        this.kafkaSendDuration,
        this.kafkaSendFailures,
        this.backpressureRefusals,
        this.inFlight,
      );
    }
    if (worker) {
      // The worker serves HTTP too (health, metrics).
      if (!api) mine.push(this.httpRequests, this.httpDuration);
      mine.push(
        this.recordsConsumed,
        this.readingsConsumed,
        this.consumerLag,
        this.bufferReadings,
        this.flushes,
        this.flushSize,
        this.flushDuration,
        this.readingsWritten,
        this.writeErrors,
        this.writeRetries,
        this.deadLetters,
        this.duplicatesDropped,
        this.fencedRecords,
      );
      this.endToEndLatency.registerIn(this.registry);
    }
    mine.forEach((metric) => this.registry.registerMetric(metric));
    this.buildInfo.set({ version, role, node: process.versions.node }, 1);
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the lag gauge reads per-partition lag at scrape time (the worker's lag monitor). */
  observeLag(source: () => Promise<PartitionLag[] | undefined>): void {
    this.lagSource = source;
  }

  /** Where the buffer gauge reads its size at scrape time. */
  observeBuffer(source: () => number): void {
    this.bufferSource = source;
  }

  /** Names of every time series this registry can export (histograms as `_bucket`, `_sum`, `_count`). */
  seriesNames(): string[] {
    return this.registry.getMetricsAsArray().flatMap((metric) => {
      const { name, type } = metric as unknown as { name: string; type: string };
      return type === 'histogram' || type === 'summary'
        ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
        : [name];
    });
  }

  /** The Prometheus text exposition of every registered metric. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
