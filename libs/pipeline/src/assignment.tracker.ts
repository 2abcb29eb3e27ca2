import { Injectable, OnModuleInit } from '@nestjs/common';

import { FlushScheduler } from './flush.scheduler.js';
import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PartitionFence } from './partition-fence.js';

/**
 * Reacts to partition (re)assignments: every claim is made anew and the buffer starts over, because
 * Kafka redelivers everything uncommitted from the committed offsets. Records of the new assignment
 * wait for that reset (`settled`) so none of them is wiped by it.
 */
@Injectable()
export class AssignmentTracker implements OnModuleInit {
  private current: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: KafkaConsumerHost,
    private readonly fence: PartitionFence,
    private readonly flush: FlushScheduler,
  ) {}

  onModuleInit(): void {
    this.host.server.onGroupJoin(() => {
      this.fence.reset();
      this.current = this.flush.onAssignment();
    });
  }

  settled(): Promise<void> {
    return this.current;
  }
}
