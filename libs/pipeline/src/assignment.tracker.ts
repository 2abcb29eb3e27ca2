// Starts the worker's buffer over on every partition (re)assignment, before records of the new one are taken in.
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';

import { ConsumerControl, type GroupMembership } from '@funnel/kafka';

import { Backpressure } from './backpressure.js';
import { BatchFlusher } from './batch.flusher.js';
import { FlushScheduler } from './flush.scheduler.js';
import { PartitionFence } from './partition-fence.js';
import { ProgressClock } from './progress.clock.js';

/** What starting over needs of each part, narrowed for the spec's fakes. */
export interface StartOverParts {
  fence: { reset(): void };
  scheduler: { idle(): Promise<void> };
  flusher: { discardBuffered(): void };
  backpressure: { resumeIfDrained(): void };
  progress: { mark(): void };
}

/**
 * Reacts to partition (re)assignments: every claim is made anew and the buffer starts over, because
 * Kafka redelivers everything uncommitted from the committed offsets. Records of the new assignment
 * wait for that reset (`settled`) so none of them is wiped by it.
 */
@Injectable()
export class AssignmentTracker implements OnModuleInit {
  private current: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ConsumerControl) private readonly membership: GroupMembership,
    @Inject(PartitionFence) private readonly fence: StartOverParts['fence'],
    @Inject(FlushScheduler) private readonly scheduler: StartOverParts['scheduler'],
    @Inject(BatchFlusher) private readonly flusher: StartOverParts['flusher'],
    @Inject(Backpressure) private readonly backpressure: StartOverParts['backpressure'],
    @Inject(ProgressClock) private readonly progress: StartOverParts['progress'],
  ) {}

  onModuleInit(): void {
    this.membership.onGroupJoin(() => {
      this.fence.reset();
      this.current = this.startOver();
    });
  }

  /** Resolves once the reset after the last assignment is done. */
  settled(): Promise<void> {
    return this.current;
  }

  /**
   * Lets a write in flight finish (and commit), then drops what is buffered (Kafka redelivers it) and
   * resumes consumption paused for backpressure.
   */
  private async startOver(): Promise<void> {
    await this.scheduler.idle();
    this.flusher.discardBuffered();
    this.progress.mark();
    this.backpressure.resumeIfDrained();
  }
}
