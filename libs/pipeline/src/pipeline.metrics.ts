// The worker's metrics (consumption, buffer, flushes, writes, lag, end-to-end latency), registered in the process registry.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';

import { MetricsRegistry, WeightedHistogram } from '@funnel/metrics';

/**
 * Buckets (seconds) for flushes and end-to-end latency, which include the flush interval: 5 ms to 2 min,
 * finer around the default FLUSH_INTERVAL_MS, so "within the flush interval + 250 ms" can be read off.
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

/** Only a role that runs the pipeline module exports these; the worker code increments the fields directly. */
@Injectable()
export class PipelineMetrics {
  readonly recordsConsumed = this.registry.register(
    new Counter({
      name: 'funnel_records_consumed_total',
      help: 'Kafka records taken into the buffer (redeliveries of a record already buffered are not counted)',
      registers: [],
    }),
  );
  readonly readingsConsumed = this.registry.register(
    new Counter({
      name: 'funnel_readings_consumed_total',
      help: 'Readings taken into the buffer from Kafka',
      registers: [],
    }),
  );
  readonly consumerLag: Gauge<'topic' | 'partition'> = this.registry.register(
    new Gauge({
      name: 'funnel_consumer_lag',
      help: 'Records not yet committed by the consumer group, per partition assigned to this worker',
      labelNames: ['topic', 'partition'] as const,
      registers: [],
      collect: async () => {
        const lags = (await this.lagSource?.()) ?? [];
        this.consumerLag.reset();
        for (const { topic, partition, lag } of lags) this.consumerLag.set({ topic, partition }, lag);
      },
    }),
  );
  readonly bufferReadings: Gauge = this.registry.register(
    new Gauge({
      name: 'funnel_buffer_readings',
      help: 'Readings buffered in the worker, waiting for a flush',
      registers: [],
      collect: (): void => this.bufferReadings.set(this.bufferSource?.() ?? 0),
    }),
  );
  readonly flushes = this.registry.register(
    new Counter({
      name: 'funnel_flushes_total',
      help: 'Batches written to MongoDB and committed',
      registers: [],
    }),
  );
  readonly flushSize = this.registry.register(
    new Histogram({
      name: 'funnel_flush_size_readings',
      help: 'Readings inserted per successful flush',
      buckets: SIZE_BUCKETS,
      registers: [],
    }),
  );
  readonly flushDuration = this.registry.register(
    new Histogram({
      name: 'funnel_flush_duration_seconds',
      help: 'Time to write one batch (fence, id check, insertMany, dead letters), by result',
      labelNames: ['result'] as const,
      buckets: SLOW_BUCKETS,
      registers: [],
    }),
  );
  readonly readingsWritten = this.registry.register(
    new Counter({
      name: 'funnel_readings_written_total',
      help: 'Readings inserted into MongoDB',
      registers: [],
    }),
  );
  readonly writeErrors = this.registry.register(
    new Counter({
      name: 'funnel_write_errors_total',
      help: 'Batch writes that failed (the batch is kept and retried with backoff; nothing is committed)',
      registers: [],
    }),
  );
  readonly writeRetries = this.registry.register(
    new Counter({
      name: 'funnel_write_retries_total',
      help: 'Batch writes attempted after a failed one',
      registers: [],
    }),
  );
  readonly deadLetters = this.registry.register(
    new Counter({
      name: 'funnel_dead_letters_total',
      help: 'Kafka records sent to the dead-letter topic',
      registers: [],
    }),
  );
  readonly duplicatesDropped = this.registry.register(
    new Counter({
      name: 'funnel_duplicates_dropped_total',
      help: 'Readings not written because their id was already stored (replays, client retries)',
      registers: [],
    }),
  );
  readonly idCheckQueryReadings = this.registry.register(
    new Histogram({
      name: 'funnel_id_check_query_readings',
      help: 'Readings looked up per id-check query (replays, client ids); at most ID_CHECK_CHUNK each, ID_CHECK_NARROW_CHUNK within ID_CHECK_NARROW_MS',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 5000, 10000],
      registers: [],
    }),
  );
  readonly fencedRecords = this.registry.register(
    new Counter({
      name: 'funnel_fenced_records_total',
      help: 'Records left to another worker that claimed their partition',
      registers: [],
    }),
  );
  readonly endToEndLatency = this.registry.register(
    new WeightedHistogram(
      'funnel_end_to_end_latency_seconds',
      'Time from receipt of a reading at the api to its write in MongoDB, one observation per reading',
      SLOW_BUCKETS,
    ),
  );

  readonly storeFull = this.registry.register(
    new Gauge({
      name: 'funnel_store_full',
      help: '1 while the store is at MONGODB_CAPACITY_DOCS: writing stopped, consumption paused, readings wait in Kafka',
      registers: [],
    }),
  );
  readonly storeDocuments: Gauge = this.registry.register(
    new Gauge({
      name: 'funnel_store_documents',
      help: 'Documents the store holds as the worker last counted them (only with MONGODB_CAPACITY_DOCS set)',
      registers: [],
      collect: (): void => {
        const held = this.storeSource?.().held;
        if (held !== undefined) this.storeDocuments.set(held);
      },
    }),
  );
  readonly storeCapacity: Gauge = this.registry.register(
    new Gauge({
      name: 'funnel_store_capacity_documents',
      help: 'MONGODB_CAPACITY_DOCS: documents the store can hold (0: no limit)',
      registers: [],
      collect: (): void => this.storeCapacity.set(this.storeSource?.().capacity ?? 0),
    }),
  );

  private lagSource?: () => Promise<PartitionLag[] | undefined>;
  private bufferSource?: () => number;
  private storeSource?: () => { held: number | undefined; capacity: number };

  constructor(private readonly registry: MetricsRegistry) {}

  /** Where the lag gauge reads per-partition lag at scrape time (the worker's lag monitor). */
  observeLag(source: () => Promise<PartitionLag[] | undefined>): void {
    this.lagSource = source;
  }

  /** Where the buffer gauge reads its size at scrape time. */
  observeBuffer(source: () => number): void {
    this.bufferSource = source;
  }

  /** Where the store gauges read the documents held and the capacity at scrape time. */
  observeStore(source: () => { held: number | undefined; capacity: number }): void {
    this.storeSource = source;
  }
}
