import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { FunnelConfig } from '@funnel/config';
import type { WirePoint } from '@funnel/contracts';
import {
  DeadLettersRepository,
  PointsRepository,
  RollupsRepository,
  planWrite,
  pointsToCheck,
  type StoredCopy,
  type WritePlan,
} from '@funnel/storage';

import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PartitionFence } from './partition-fence.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer, type Batch, type BufferedRecord, type PartitionSlice } from './points-buffer.js';

const MAX_BACKOFF_MS = 30_000;
/** How often the scheduler checks whether a flush is due (at most; FLUSH_INTERVAL_MS when that is shorter). */
const TICK_MS = 100;

/**
 * When the buffer's next flush is due (epoch ms): FLUSH_INTERVAL_MS after its oldest record was received, less
 * the time the write is expected to take, so that the readings are stored by then rather than only starting
 * to be written. The expected time is the last write's, scaled up (never down) to the readings that the
 * next batch will hold; with no write yet, nothing is subtracted. A write expected to take the whole interval
 * or more makes the flush due at once (the worker then writes back to back, as under a backlog).
 */
export function flushDueAt(
  oldestSince: number,
  bufferedPoints: number,
  config: Pick<FunnelConfig, 'FLUSH_INTERVAL_MS' | 'FLUSH_MAX_POINTS'>,
  lastWrite?: { ms: number; points: number },
): number {
  const next = Math.min(bufferedPoints, config.FLUSH_MAX_POINTS);
  const expected = lastWrite && lastWrite.points > 0 ? lastWrite.ms * Math.max(1, next / lastWrite.points) : 0;
  return oldestSince + config.FLUSH_INTERVAL_MS - Math.min(config.FLUSH_INTERVAL_MS, expected);
}

/** Where a flush's time went (ms), for its debug line. */
interface FlushPhases {
  check: number;
  announce: number;
  insert: number;
  rollups: number;
}

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
 * Writes the buffer to MongoDB so that a reading is stored within FLUSH_INTERVAL_MS of the api receiving it
 * (see flushDueAt), or as soon as it holds FLUSH_MAX_POINTS, one flush at a time. A batch is: look up the
 * ids that may already be stored (only records that may be replays or carry client ids) → announce its
 * offsets per partition (fenced by the claim's epoch) → within the write budget from the announcement: insertMany of the readings not stored yet (and, on a
 * partition's first batch since its claim, delete its rollups from there on), then replace the batch's
 * minute rollups → record dead letters → commit offsets. A failure puts the batch back and commits nothing;
 * the next attempt waits an exponentially growing delay.
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
  /**
   * Per topic-partition, the claim epoch under which its rollups from the restart offset on were deleted.
   * The first batch of an epoch starts at the first record delivered after the assignment (where the
   * replay starts): rollups of slices from there on are uncommitted and recomputed by the replay.
   */
  private readonly rollupsReset = new Map<string, number>();
  /** How long the last successful write took (from the start of its flush to its rollups written) and its readings. */
  private lastWrite?: { ms: number; points: number };

  constructor(
    private readonly buffer: PointsBuffer,
    private readonly repository: PointsRepository,
    private readonly rollups: RollupsRepository,
    private readonly deadLetters: DeadLettersRepository,
    private readonly fence: PartitionFence,
    private readonly host: KafkaConsumerHost,
    private readonly config: FunnelConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly metrics: PipelineMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.observeBuffer(() => this.buffer.size);
    this.scheduler.addInterval(
      'flush',
      setInterval(
        () => {
          if (this.flushDue()) void this.flush();
        },
        Math.min(TICK_MS, this.config.FLUSH_INTERVAL_MS),
      ),
    );
  }

  /**
   * Whether the buffered readings must start being written now to be stored within FLUSH_INTERVAL_MS of the
   * api receiving them (their time in Kafka counts too: freshness is what a client sees).
   */
  private flushDue(): boolean {
    const oldest = this.buffer.oldestSince;
    return oldest !== undefined && Date.now() >= flushDueAt(oldest, this.buffer.size, this.config, this.lastWrite);
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
    this.rollupsReset.clear();
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
      const oldestAge = Date.now() - (this.buffer.oldestSince ?? Date.now());
      const batch = this.buffer.take(this.config.FLUSH_MAX_POINTS);
      if (!batch) {
        return;
      }
      const started = Date.now();
      const phases: FlushPhases = { check: 0, announce: 0, insert: 0, rollups: 0 };
      if (this.consecutiveFailures > 0) {
        this.metrics.writeRetries.inc();
      }
      const timer = this.metrics.flushDuration.startTimer();
      let usable: BufferedRecord[] = batch.records;
      try {
        const stored = await this.storedCopies(batch.records);
        const announcedAt = Date.now();
        phases.check = announcedAt - started;
        const kept = await this.dropFenced(batch);
        usable = kept.records;
        phases.announce = Date.now() - announcedAt;
        const plan = planWrite(usable, stored);
        const resets = kept.slices.filter((s) => this.rollupsReset.get(`${s.topic}:${s.partition}`) !== s.epoch);
        await this.write(plan, resets, announcedAt + this.repository.writeBudgetMs, phases);
        await this.deadLetters.record(usable.flatMap((r) => (r.deadLetter ? [r.deadLetter] : [])));
        for (const s of resets) this.rollupsReset.set(`${s.topic}:${s.partition}`, s.epoch);
        this.lastWrite = { ms: Date.now() - started, points: batch.records.reduce((n, r) => n + r.points.length, 0) };
        this.stats.duplicatesDropped += plan.duplicates;
        this.stats.written += plan.insert.length;
        timer({ result: 'ok' });
        this.countWritten(
          usable,
          plan.insert.map((p) => p.point),
          plan.duplicates,
        );
      } catch (error) {
        timer({ result: 'error' });
        this.buffer.putBack(batch, usable);
        this.onFailure(batch, error as Error);
        return;
      }
      this.consecutiveFailures = 0;
      this.stats.flushes++;
      this.stats.lastFlushAt = Date.now();
      const committing = Date.now();
      await this.commit(usable);
      this.logger.debug(
        `wrote ${batch.records.length} records in ${Date.now() - started} ms, its oldest reading received ${oldestAge} ms before ` +
          `(id check ${phases.check}, announce ${phases.announce}, insert ${phases.insert}, ` +
          `rollups ${phases.rollups}, commit ${Date.now() - committing})`,
      );
      this.lastProgressAt = Date.now();
      this.resumeIfDrained();
    }
    this.resumeIfDrained();
  }

  /** Announces the batch per partition; records of partitions claimed by another owner since are dropped. */
  private async dropFenced(batch: Batch): Promise<{ records: BufferedRecord[]; slices: PartitionSlice[] }> {
    const verdicts = await Promise.all(
      batch.partitions.map(
        async (p) =>
          [`${p.topic}:${p.partition}`, await this.fence.announce(p.topic, p.partition, p.epoch, p.through)] as const,
      ),
    );
    const fenced = new Set(verdicts.filter(([, ok]) => !ok).map(([key]) => key));
    if (fenced.size === 0) {
      return { records: batch.records, slices: batch.partitions };
    }
    const kept = batch.records.filter((r) => !fenced.has(`${r.topic}:${r.partition}`));
    this.stats.fenced += batch.records.length - kept.length;
    this.metrics.fencedRecords.inc(batch.records.length - kept.length);
    this.logger.warn(
      `partitions ${[...fenced].join(', ')} were claimed by another worker: their records are left to it`,
    );
    return { records: kept, slices: batch.partitions.filter((p) => !fenced.has(`${p.topic}:${p.partition}`)) };
  }

  /** What is stored under the ids of records marked for a check (replays, client-chosen ids, retried writes). */
  private async storedCopies(records: BufferedRecord[]): Promise<Map<string, StoredCopy>> {
    const toCheck = pointsToCheck(records);
    if (toCheck.length === 0) {
      return new Map();
    }
    const lookbackMs = records.some((r) => r.idem) ? this.config.IDEMPOTENCY_WINDOW_MS : 0;
    return this.repository.existingIds(toCheck, lookbackMs);
  }

  /**
   * The batch's writes, all ending by `deadline` (each operation is given the time left), so that a new
   * owner of a partition, which waits DEDUP_SETTLE_MS after our announcement, never races one of them:
   * rollups of the partitions in `resets` from their slice's first offset on are deleted and the readings
   * inserted, then the batch's rollups are written (only once the readings are).
   */
  private async write(plan: WritePlan, resets: PartitionSlice[], deadline: number, phases: FlushPhases): Promise<void> {
    const started = Date.now();
    await Promise.all([
      ...resets.map(async (s) => this.rollups.deleteFrom(s.topic, s.partition, Number(s.from), timeLeft(deadline))),
      this.repository.insertMany(plan.insert, timeLeft(deadline)),
    ]);
    const inserted = Date.now();
    phases.insert = inserted - started;
    await this.rollups.write(plan.rollups, timeLeft(deadline));
    phases.rollups = Date.now() - inserted;
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

/** Ms left before `deadline`; throws (failing the batch, which is retried) when none is. */
function timeLeft(deadline: number): number {
  const left = deadline - Date.now();
  if (left < 1) {
    throw new Error('write budget since the announcement exhausted (bounded by DEDUP_SETTLE_MS)');
  }
  return left;
}
