import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { FunnelConfig } from '@funnel/config';
import type { WirePoint } from '@funnel/contracts';
import { FunnelMetrics } from '@funnel/metrics';
import { DeadLettersRepository, PointsRepository } from '@funnel/storage';

import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PartitionFence } from './partition-fence.js';
import { PointsBuffer, type Batch, type BufferedRecord } from './points-buffer.js';

const MAX_BACKOFF_MS = 30_000;

/** Totals since start, for logs, health, metrics and tests. */
export interface FlushStats {
  flushes: number;
  written: number;
  failures: number;
  /** Readings not written because their id was already stored (replays, client retries). */
  duplicatesDropped: number;
  /** Records dropped because another worker claimed their partition. */
  fenced: number;
  lastFlushAt?: number;
  lastError?: string;
}

/**
 * Writes the buffer to MongoDB every FLUSH_INTERVAL_MS, or as soon as it holds FLUSH_MAX_POINTS, one
 * flush at a time. A batch is: announce its offsets per partition (fenced by the claim's epoch) → drop
 * readings already stored (only for records that may be replays or carry client ids) → insertMany →
 * record dead letters → commit offsets. A failure puts the batch back and commits nothing; the next
 * attempt waits an exponentially growing delay.
 */
@Injectable()
export class FlushScheduler implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Flush');
  private running?: Promise<void>;
  private retryAt = 0;
  private consecutiveFailures = 0;
  private paused = false;
  private shuttingDown = false;
  readonly stats: FlushStats = { flushes: 0, written: 0, failures: 0, duplicatesDropped: 0, fenced: 0 };
  /** Epoch ms of the last sign of progress: a record taken in, a batch committed, or a new assignment. */
  lastProgressAt = Date.now();

  constructor(
    private readonly buffer: PointsBuffer,
    private readonly repository: PointsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly fence: PartitionFence,
    private readonly host: KafkaConsumerHost,
    private readonly config: FunnelConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: FunnelMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.observeBuffer(() => this.buffer.size);
    this.scheduler.addInterval(
      'flush',
      setInterval(() => void this.flush(), this.config.FLUSH_INTERVAL_MS),
    );
  }

  /** Whether the last write failed and the next one is waiting out its backoff. */
  get failing(): boolean {
    return this.consecutiveFailures > 0;
  }

  /** Called by the consumer after each record: flushes early when full, pauses when over the high-water mark. */
  afterAdd(): void {
    this.lastProgressAt = Date.now();
    if (this.buffer.size >= this.config.FLUSH_MAX_POINTS) {
      void this.flush();
    }
    if (!this.paused && this.buffer.size >= this.config.BUFFER_HIGH_WATER) {
      this.paused = true;
      this.host.server.pause([this.host.topic]);
      this.logger.warn(
        `buffer at ${this.buffer.size} readings (high water ${this.config.BUFFER_HIGH_WATER}): consumption paused`,
      );
    }
  }

  /** Runs a flush unless one is running, in which case it waits for that one. */
  flush(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Resolves when no flush is running (the one in flight, if any, has finished). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** Partitions were reassigned: Kafka redelivers everything uncommitted, so the buffer starts over. */
  async onAssignment(): Promise<void> {
    await this.idle();
    this.buffer.clear();
    this.lastProgressAt = Date.now();
    this.resumeIfDrained();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.scheduler.deleteInterval('flush');
    this.host.server.pause([this.host.topic]);
    const deadline = Date.now() + this.config.SHUTDOWN_TIMEOUT_MS / 2;
    while (this.buffer.pendingRecords > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.pendingRecords > 0) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    await this.idle();
    if (this.buffer.pendingRecords > 0) {
      this.logger.error(
        `shutting down with ${this.buffer.size} unwritten readings; their offsets were not committed, so they will be replayed`,
      );
    } else {
      this.logger.log(`buffer flushed and committed (${this.stats.written} readings written since start)`);
    }
  }

  private async drain(): Promise<void> {
    while (this.buffer.pendingRecords > 0 && Date.now() >= this.retryAt) {
      const batch = this.buffer.take(this.config.FLUSH_MAX_POINTS);
      if (!batch) {
        return;
      }
      const started = Date.now();
      if (this.consecutiveFailures > 0) {
        this.metrics.writeRetries.inc();
      }
      const timer = this.metrics.flushDuration.startTimer();
      let usable: BufferedRecord[] = batch.records;
      try {
        usable = await this.dropFenced(batch);
        const { points, duplicates } = await this.withoutStored(usable);
        await this.repository.insertMany(points);
        await this.deadLetters.record(usable.flatMap((r) => (r.deadLetter ? [r.deadLetter] : [])));
        this.stats.duplicatesDropped += duplicates;
        this.stats.written += points.length;
        timer({ result: 'ok' });
        this.countWritten(usable, points, duplicates);
      } catch (error) {
        timer({ result: 'error' });
        this.buffer.putBack(batch, usable);
        this.onFailure(batch, error as Error);
        return;
      }
      this.consecutiveFailures = 0;
      this.stats.flushes++;
      this.stats.lastFlushAt = Date.now();
      this.logger.debug(`wrote ${batch.records.length} records in ${Date.now() - started} ms`);
      await this.commit(usable);
      this.lastProgressAt = Date.now();
      this.resumeIfDrained();
    }
    this.resumeIfDrained();
  }

  /** Announces the batch per partition; records of partitions claimed by another owner since are dropped. */
  private async dropFenced(batch: Batch): Promise<BufferedRecord[]> {
    const verdicts = await Promise.all(
      batch.partitions.map(
        async (p) =>
          [`${p.topic}:${p.partition}`, await this.fence.announce(p.topic, p.partition, p.epoch, p.through)] as const,
      ),
    );
    const fenced = new Set(verdicts.filter(([, ok]) => !ok).map(([key]) => key));
    if (fenced.size === 0) {
      return batch.records;
    }
    const kept = batch.records.filter((r) => !fenced.has(`${r.topic}:${r.partition}`));
    this.stats.fenced += batch.records.length - kept.length;
    this.metrics.fencedRecords.inc(batch.records.length - kept.length);
    this.logger.warn(
      `partitions ${[...fenced].join(', ')} were claimed by another worker: their records are left to it`,
    );
    return kept;
  }

  /** The readings to insert: without repeats inside the batch, and without those already stored (checked records only). */
  private async withoutStored(records: BufferedRecord[]): Promise<{ points: WirePoint[]; duplicates: number }> {
    const seen = new Set<string>();
    const toCheck: WirePoint[] = [];
    const points: WirePoint[] = [];
    let duplicates = 0;
    let lookbackMs = 0;
    for (const record of records) {
      if (record.idem) {
        lookbackMs = this.config.IDEMPOTENCY_WINDOW_MS;
      }
      for (const point of record.points) {
        if (seen.has(point.id)) {
          duplicates++;
          continue;
        }
        seen.add(point.id);
        points.push(point);
        if (record.checkIds) {
          toCheck.push(point);
        }
      }
    }
    if (toCheck.length === 0) {
      return { points, duplicates };
    }
    const stored = await this.repository.existingIds(toCheck, lookbackMs);
    if (stored.size === 0) {
      return { points, duplicates };
    }
    const fresh = points.filter((p) => !stored.has(p.id));
    return { points: fresh, duplicates: duplicates + points.length - fresh.length };
  }

  /**
   * Metrics of a written batch. End-to-end latency is observed once per record, weighted by the readings
   * of that record that were written: they share their receipt time and their write time.
   */
  private countWritten(records: BufferedRecord[], written: WirePoint[], duplicates: number): void {
    const now = Date.now();
    this.metrics.flushes.inc();
    this.metrics.flushSize.observe(written.length);
    this.metrics.readingsWritten.inc(written.length);
    this.metrics.duplicatesDropped.inc(duplicates);
    const notCounted = duplicates > 0 ? new Set(written.map((p) => p.id)) : undefined;
    for (const record of records) {
      const n = notCounted ? record.points.filter((p) => notCounted.delete(p.id)).length : record.points.length;
      this.metrics.endToEndLatency.observe((now - record.receivedAt) / 1000, n);
    }
  }

  private async commit(records: BufferedRecord[]): Promise<void> {
    const top = new Map<string, { topic: string; partition: number; offset: bigint }>();
    for (const r of records) {
      const key = `${r.topic}:${r.partition}`;
      const offset = BigInt(r.offset);
      if (!top.has(key) || offset > top.get(key)!.offset) {
        top.set(key, { topic: r.topic, partition: r.partition, offset });
      }
    }
    if (top.size === 0) {
      return;
    }
    try {
      await this.host.server.commit(
        [...top.values()].map((t) => ({ topic: t.topic, partition: t.partition, offset: (t.offset + 1n).toString() })),
      );
    } catch (error) {
      // The readings are stored; uncommitted, they are redelivered and then dropped by the id check.
      this.logger.warn(`offset commit failed after a successful write: ${(error as Error).message}`);
    }
  }

  private onFailure(batch: Batch, error: Error): void {
    this.consecutiveFailures++;
    this.stats.failures++;
    this.metrics.writeErrors.inc();
    this.stats.lastError = error.message;
    const delay = Math.min(MAX_BACKOFF_MS, this.config.FLUSH_INTERVAL_MS * 2 ** (this.consecutiveFailures - 1));
    this.retryAt = Date.now() + delay;
    this.logger.warn(
      `write of ${batch.records.length} records failed (${error.message}); nothing committed, retrying in ${delay} ms`,
    );
  }

  private resumeIfDrained(): void {
    if (this.paused && !this.shuttingDown && this.buffer.size < this.config.BUFFER_HIGH_WATER / 2) {
      this.paused = false;
      this.host.server.resume([this.host.topic]);
      this.logger.log(`buffer drained to ${this.buffer.size} readings: consumption resumed`);
    }
  }
}
