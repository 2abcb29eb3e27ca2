// Remembers when the consumer last made progress, for the stall check.
import { Injectable } from '@nestjs/common';

/** Epoch ms of the last sign of progress: a record taken in, a batch committed, or a new assignment. */
@Injectable()
export class ProgressClock {
  lastProgressAt = Date.now();

  mark(): void {
    this.lastProgressAt = Date.now();
  }
}
