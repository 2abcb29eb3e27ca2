import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { FunnelConfig } from '@funnel/config';
import { PointsRepository } from '@funnel/storage';

import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PointsBuffer } from './points-buffer.js';

const MAX_BACKOFF_MS = 30_000;
const SHUTDOWN_FLUSH_MS = 20_000;

/** Totals since start, for logs, health and tests. */
export interface FlushStats {
  flushes: number;
  written: number;
  failures: number;
  lastFlushAt?: number;
  lastError?: string;
}

/**
 * Writes the buffer to MongoDB every FLUSH_INTERVAL_MS, or as soon as it holds FLUSH_MAX_POINTS,
 * one flush at a time, then commits the offsets the written readings came from. A failed write
 * puts the batch back and commits nothing; the next attempt waits an exponentially growing delay.
 */
@Injectable()
export class FlushScheduler implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Flush');
  private running?: Promise<void>;
  private retryAt = 0;
  private consecutiveFailures = 0;
  private paused = false;
  private shuttingDown = false;
  readonly stats: FlushStats = { flushes: 0, written: 0, failures: 0 };

  constructor(
    private readonly buffer: PointsBuffer,
    private readonly repository: PointsRepository,
    private readonly host: KafkaConsumerHost,
    private readonly config: FunnelConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
    this.scheduler.addInterval(
      'flush',
      setInterval(() => void this.flush(), this.config.FLUSH_INTERVAL_MS),
    );
  }

  /** Called by the consumer after each record: flushes early when full, pauses when over the high-water mark. */
  afterAdd(): void {
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

  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    this.scheduler.deleteInterval('flush');
    this.host.server.pause([this.host.topic]);
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    while (this.buffer.pendingRecords > 0 && Date.now() < deadline) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.pendingRecords > 0) {
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    if (this.buffer.size > 0) {
      this.logger.error(
        `shutting down with ${this.buffer.size} unwritten readings; their offsets were not committed, so they will be replayed`,
      );
    }
  }

  private async drain(): Promise<void> {
    while (this.buffer.pendingRecords > 0) {
      if (Date.now() < this.retryAt) {
        return;
      }
      const batch = this.buffer.take(this.config.FLUSH_MAX_POINTS);
      if (!batch) {
        return;
      }
      const started = Date.now();
      try {
        await this.repository.insertMany(batch.points);
      } catch (error) {
        this.buffer.putBack(batch);
        this.consecutiveFailures++;
        this.stats.failures++;
        this.stats.lastError = (error as Error).message;
        const delay = Math.min(MAX_BACKOFF_MS, this.config.FLUSH_INTERVAL_MS * 2 ** (this.consecutiveFailures - 1));
        this.retryAt = Date.now() + delay;
        this.logger.warn(
          `write of ${batch.points.length} readings failed (${this.stats.lastError}); nothing committed, retrying in ${delay} ms`,
        );
        return;
      }
      this.consecutiveFailures = 0;
      this.stats.flushes++;
      this.stats.written += batch.points.length;
      this.stats.lastFlushAt = Date.now();
      this.logger.debug(`wrote ${batch.points.length} readings in ${Date.now() - started} ms`);
      try {
        await this.host.server.commit(batch.commits);
      } catch (error) {
        // The readings are stored; without the commit they are redelivered and dropped again by offset.
        this.logger.warn(`offset commit failed after a successful write: ${(error as Error).message}`);
      }
      this.resumeIfDrained();
    }
    this.resumeIfDrained();
  }

  private resumeIfDrained(): void {
    if (this.paused && !this.shuttingDown && this.buffer.size < this.config.BUFFER_HIGH_WATER / 2) {
      this.paused = false;
      this.host.server.resume([this.host.topic]);
      this.logger.log(`buffer drained to ${this.buffer.size} readings: consumption resumed`);
    }
  }
}
