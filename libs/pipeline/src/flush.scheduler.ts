// Decides when the buffer is flushed: on a timer, when full, after a failure's backoff, and on shutdown.
import { setTimeout as sleep } from 'node:timers/promises';

import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import { FunnelConfig } from '@funnel/config';

import { Backpressure } from './backpressure.js';
import { BatchFlusher, type FlushOutcome, type FlushStats } from './batch.flusher.js';
import { flushDueAt, retryDelay, TICK_MS, type LastWrite } from './flush-timing.js';
import { PointsBuffer } from './points-buffer.js';

/** What the scheduler needs of the flusher. */
export interface Flushing {
  readonly stats: Pick<FlushStats, 'written'>;
  /** True while the store is full: flushing cannot make progress until room appears. */
  readonly storeFull?: boolean;
  flushNext(retry: boolean): Promise<FlushOutcome | undefined>;
}

/** What the scheduler needs of backpressure. */
export interface ConsumptionFlow {
  resumeIfDrained(): void;
  stop(): void;
}

/**
 * Flushes the buffer so that a reading is stored within FLUSH_INTERVAL_MS of the api receiving it (see
 * flushDueAt), or as soon as it holds FLUSH_MAX_POINTS, one flush at a time, batch after batch until the
 * buffer is drained. After a failed batch the next attempt waits an exponentially growing delay.
 */
@Injectable()
export class FlushScheduler implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Flush');
  private running?: Promise<void>;
  private retryAt = 0;
  private consecutiveFailures = 0;
  /** How long the last successful write took (from the start of its flush to its rollups written) and its readings. */
  private lastWrite?: LastWrite;

  constructor(
    private readonly buffer: PointsBuffer,
    @Inject(BatchFlusher) private readonly flusher: Flushing,
    @Inject(Backpressure) private readonly flow: ConsumptionFlow,
    private readonly config: FunnelConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onModuleInit(): void {
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

  /** After a record was buffered: flushes early when the buffer holds FLUSH_MAX_POINTS. */
  afterAdd(): void {
    if (this.buffer.size >= this.config.FLUSH_MAX_POINTS) {
      void this.flush();
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

  async beforeApplicationShutdown(): Promise<void> {
    this.scheduler.deleteInterval('flush');
    this.flow.stop();
    const deadline = Date.now() + this.config.SHUTDOWN_TIMEOUT_MS / 2;
    // A full store makes no room while shutting down: waiting would only delay the exit.
    while (this.buffer.pendingRecords > 0 && Date.now() < deadline && !this.flusher.storeFull) {
      this.retryAt = 0;
      await this.flush();
      if (this.buffer.pendingRecords > 0) {
        await sleep(250);
      }
    }
    await this.idle();
    if (this.buffer.pendingRecords > 0) {
      this.logger.error(
        `shutting down with ${this.buffer.size} unwritten readings; their offsets were not committed, so they will be replayed`,
      );
    } else {
      this.logger.log(`buffer flushed and committed (${this.flusher.stats.written} readings written since start)`);
    }
  }

  /** Flushes batch after batch until the buffer is drained, a batch fails, or a backoff is running. */
  private async drain(): Promise<void> {
    while (this.buffer.pendingRecords > 0 && Date.now() >= this.retryAt) {
      const outcome = await this.flusher.flushNext(this.consecutiveFailures > 0);
      if (!outcome) {
        return;
      }
      if (!outcome.ok) {
        this.consecutiveFailures++;
        const delay = retryDelay(this.consecutiveFailures, this.config);
        this.retryAt = Date.now() + delay;
        this.logger.warn(
          `write of ${outcome.records} records failed (${outcome.error.message}); nothing committed, retrying in ${delay} ms`,
        );
        return;
      }
      this.consecutiveFailures = 0;
      this.lastWrite = outcome.lastWrite;
      this.flow.resumeIfDrained();
    }
    this.flow.resumeIfDrained();
  }
}
