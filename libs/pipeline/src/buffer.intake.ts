// Takes a decoded record into the buffer and tells the parts that react to a fuller buffer.
import { Injectable } from '@nestjs/common';

import { Backpressure } from './backpressure.js';
import { FlushScheduler } from './flush.scheduler.js';
import { PointsBuffer, type BufferedRecord } from './points-buffer.js';
import { ProgressClock } from './progress.clock.js';

/** Buffers a record, then lets the scheduler flush early when full and backpressure pause when over high water. */
@Injectable()
export class BufferIntake {
  constructor(
    private readonly buffer: PointsBuffer,
    private readonly scheduler: FlushScheduler,
    private readonly backpressure: Backpressure,
    private readonly progress: ProgressClock,
  ) {}

  /** False when the buffer refused the record (already buffered: a redelivery of one it holds). */
  take(record: BufferedRecord): boolean {
    if (!this.buffer.add(record)) {
      return false;
    }
    this.progress.mark();
    this.scheduler.afterAdd();
    this.backpressure.afterAdd();
    return true;
  }
}
