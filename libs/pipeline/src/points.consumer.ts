import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload } from '@nestjs/microservices';

import { RecordRejected, decodePointsRecord, type WirePoint } from '@funnel/contracts';

import { FlushScheduler } from './flush.scheduler.js';
import { POINTS_PATTERN } from './kafka-consumer.host.js';
import { PointsBuffer } from './points-buffer.js';

/** Takes readings records off Kafka into the buffer; the flush writes them and commits. */
@Controller()
export class PointsConsumer {
  private readonly logger = new Logger('Consumer');
  consumed = 0;
  rejected = 0;

  constructor(
    private readonly buffer: PointsBuffer,
    private readonly flush: FlushScheduler,
  ) {}

  @EventPattern(POINTS_PATTERN)
  onRecord(@Payload() value: unknown, @Ctx() kafkaContext: unknown): void {
    const context = kafkaContext as KafkaContext;
    const message = context.getMessage();
    let points: WirePoint[];
    try {
      points = decodePointsRecord(value).points;
    } catch (error) {
      if (!(error instanceof RecordRejected)) {
        throw error;
      }
      this.rejected++;
      this.logger.warn(
        `skipping record ${context.getTopic()}/${context.getPartition()}@${message.offset}: ${error.reason}`,
      );
      points = []; // kept without readings so that its offset is committed in order
    }
    const added = this.buffer.add({
      topic: context.getTopic(),
      partition: context.getPartition(),
      offset: message.offset,
      points,
    });
    if (added) {
      this.consumed += points.length;
      this.flush.afterAdd();
    }
  }
}
