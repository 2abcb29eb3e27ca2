// Flushes one batch: takes it from the buffer, has it written, then commits its offsets or puts it back.
import { Inject, Injectable, Logger } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import type { WirePoint } from '@funnel/contracts';
import { ConsumerControl, nextOffsets, type OffsetCommitter } from '@funnel/kafka';

import { BatchWriteFailed, BatchWriter, type BatchWritten } from './batch.writer.js';
import type { LastWrite } from './flush-timing.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer, type Batch, type BufferedRecord } from './points-buffer.js';
import { ProgressClock } from './progress.clock.js';
import { StoreGate } from './store.gate.js';
import type { WriteRoom } from './write-room.js';

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

/** How one flush ended. */
export type FlushOutcome = { ok: true; lastWrite: LastWrite } | { ok: false; error: Error; records: number };

/** What the flusher needs of a batch writer. */
export interface BatchWriting {
  write(batch: Batch): Promise<BatchWritten>;
  forgetClaims(): void;
}

/**
 * One flush at the caller's word: up to FLUSH_MAX_POINTS readings are written, and only then are their
 * offsets committed (highest + 1 per partition). A failure puts the batch back and commits nothing.
 */
@Injectable()
export class BatchFlusher {
  private readonly logger = new Logger('Flush');
  readonly stats: FlushStats = { flushes: 0, written: 0, failures: 0, duplicatesDropped: 0, fenced: 0 };

  constructor(
    private readonly buffer: PointsBuffer,
    @Inject(BatchWriter) private readonly writer: BatchWriting,
    @Inject(ConsumerControl) private readonly consumer: OffsetCommitter,
    private readonly progress: ProgressClock,
    private readonly config: FunnelConfig,
    private readonly metrics: PipelineMetrics,
    @Inject(StoreGate) private readonly room: WriteRoom,
  ) {}

  /** True while the store is full and nothing is written (see StoreGate). */
  get storeFull(): boolean {
    return this.room.full !== undefined;
  }

  /**
   * Flushes the next batch; undefined when nothing was left to take, or when not one buffered record fits
   * in the store (it stays buffered). `retry`: the last flush failed.
   */
  async flushNext(retry: boolean): Promise<FlushOutcome | undefined> {
    if (this.buffer.pendingRecords === 0) {
      return undefined;
    }
    const room = await this.room.room();
    const oldestAge = Date.now() - (this.buffer.oldestSince ?? Date.now());
    const batch = this.buffer.take(this.config.FLUSH_MAX_POINTS, room);
    if (!batch) {
      if (this.buffer.pendingRecords > 0) {
        this.room.stopForFullStore();
      }
      return undefined;
    }
    const started = Date.now();
    if (retry) {
      this.metrics.writeRetries.inc();
    }
    const timer = this.metrics.flushDuration.startTimer();
    let written: BatchWritten;
    try {
      written = await this.writer.write(batch);
    } catch (error) {
      timer({ result: 'error' });
      const failed = error instanceof BatchWriteFailed ? error : new BatchWriteFailed(error as Error, batch.records, 0);
      this.stats.fenced += failed.fenced;
      this.buffer.putBack(batch, failed.kept);
      this.stats.failures++;
      this.metrics.writeErrors.inc();
      this.stats.lastError = failed.message;
      return { ok: false, error: failed.cause, records: batch.records.length };
    }
    const lastWrite = { ms: Date.now() - started, points: batch.records.reduce((n, r) => n + r.points.length, 0) };
    this.stats.fenced += written.fenced;
    this.stats.duplicatesDropped += written.duplicates;
    this.stats.written += written.written.length;
    this.room.wrote(written.written.length);
    timer({ result: 'ok' });
    this.countWritten(written.records, written.written, written.duplicates);
    this.stats.flushes++;
    this.stats.lastFlushAt = Date.now();
    const committing = Date.now();
    await this.commit(written.records);
    const { phases } = written;
    this.logger.debug(
      `wrote ${batch.records.length} records in ${Date.now() - started} ms, its oldest reading received ${oldestAge} ms before ` +
        `(id check ${phases.check}, announce ${phases.announce}, plan ${phases.plan}, insert ${phases.insert}, ` +
        `rollups ${phases.rollups}, commit ${Date.now() - committing})`,
    );
    this.progress.mark();
    return { ok: true, lastWrite };
  }

  /** Partitions were reassigned: Kafka redelivers everything uncommitted, so the buffer starts over. */
  discardBuffered(): void {
    this.buffer.clear();
    this.writer.forgetClaims();
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
    const offsets = nextOffsets(records);
    if (offsets.length === 0) {
      return;
    }
    try {
      await this.consumer.commit(offsets);
    } catch (error) {
      // The readings are stored; uncommitted, they are redelivered and then dropped by the id check.
      this.logger.warn(`offset commit failed after a successful write: ${(error as Error).message}`);
    }
  }
}
