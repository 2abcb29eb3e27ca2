// Pauses consumption when the buffer is over its high-water mark and resumes it once drained.
import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { ConsumerControl, type ConsumptionSwitch } from '@funnel/kafka';

import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer } from './points-buffer.js';

/**
 * Keeps the buffer bounded: at BUFFER_HIGH_WATER readings fetching stops, and starts again once writes have
 * left it below half of that. Once stopped for shutdown, it never resumes.
 */
@Injectable()
export class Backpressure implements OnModuleInit {
  private readonly logger = new Logger('Flush');
  private paused = false;
  private stopped = false;
  /** Held paused while the store is full, whatever the buffer holds. */
  private storeFull = false;

  constructor(
    private readonly buffer: PointsBuffer,
    @Inject(ConsumerControl) private readonly consumer: ConsumptionSwitch,
    private readonly config: FunnelConfig,
    private readonly metrics: PipelineMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.observeBuffer(() => this.buffer.size);
  }

  /** After a record was buffered: pauses when the buffer reached the high-water mark. */
  afterAdd(): void {
    if (!this.paused && this.buffer.size >= this.config.BUFFER_HIGH_WATER) {
      this.paused = true;
      this.consumer.pause();
      this.logger.warn(
        `buffer at ${this.buffer.size} readings (high water ${this.config.BUFFER_HIGH_WATER}): consumption paused`,
      );
    }
  }

  /** After a write or a reset of the buffer: resumes when it fell below half the high-water mark. */
  resumeIfDrained(): void {
    if (this.paused && !this.stopped && !this.storeFull && this.buffer.size < this.config.BUFFER_HIGH_WATER / 2) {
      this.paused = false;
      this.consumer.resume();
      this.logger.log(`buffer drained to ${this.buffer.size} readings: consumption resumed`);
    }
  }

  /** The store is full (pause until it is not) or has room again (resume, unless the buffer is still high). */
  holdForStore(full: boolean): void {
    this.storeFull = full;
    if (full && !this.paused) {
      this.paused = true;
      this.consumer.pause();
    } else if (!full) {
      this.resumeIfDrained();
    }
  }

  /** Stops consumption for good (shutdown): what is buffered is the last to be written. */
  stop(): void {
    this.stopped = true;
    this.consumer.pause();
  }
}
