// Takes readings records off Kafka: claims the partition, decodes, dead-letters what is unusable, buffers.
import { setTimeout as sleep } from 'node:timers/promises';

import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, KafkaParser } from '@nestjs/microservices';

import { RecordRejected, decodePointsRecord, type PointsRecord } from '@funnel/contracts';
import { deadLetterTopic, sendToDeadLetterTopic } from '@funnel/kafka';
import { deadLetterValue, type DeadLetter } from '@funnel/storage';

import { AssignmentTracker } from './assignment.tracker.js';
import { BufferIntake } from './buffer.intake.js';
import { POINTS_PATTERN } from './kafka-consumer.host.js';
import { PartitionFence, type OwnedPartition } from './partition-fence.js';
import { PipelineMetrics } from './pipeline.metrics.js';

const CLAIM_RETRY_MS = 1000;

/**
 * The stock parser's value decoding (JSON object or array, else text; bytes starting with 0 kept as a Buffer),
 * applied here because the transport hands over the record's bytes (keepBinary, consumer-options.ts).
 */
const valueParser = new KafkaParser();

/** Takes readings records off Kafka into the buffer; the flush writes them and commits. */
@Controller()
export class PointsConsumer {
  private readonly logger = new Logger('Consumer');

  constructor(
    private readonly intake: BufferIntake,
    private readonly fence: PartitionFence,
    private readonly assignment: AssignmentTracker,
    private readonly metrics: PipelineMetrics,
  ) {}

  @EventPattern(POINTS_PATTERN)
  async onRecord(@Ctx() kafkaContext: unknown): Promise<void> {
    const context = kafkaContext as KafkaContext;
    const topic = context.getTopic();
    const partition = context.getPartition();
    const message = context.getMessage();
    // The record's bytes (null for a tombstone): what a dead letter keeps.
    const bytes = message.value;
    await this.assignment.settled();
    const owned = await this.ownership(context);

    let record: PointsRecord | undefined;
    let deadLetter: DeadLetter | undefined;
    try {
      record = decodePointsRecord(bytes === null ? null : valueParser.decode(bytes));
    } catch (error) {
      if (!(error instanceof RecordRejected)) {
        throw error;
      }
      deadLetter = await this.sendToDeadLetters(context, bytes, error.reason);
    }
    const offset = BigInt(message.offset);
    const added = this.intake.take({
      topic,
      partition,
      offset: message.offset,
      points: record?.points ?? [],
      epoch: owned.epoch,
      idem: record?.idem ?? false,
      exactTs: record?.exactTs ?? false,
      checkIds: (record?.idem ?? false) || (owned.checkThrough !== undefined && offset <= owned.checkThrough),
      receivedAt: record?.receivedAt ?? Date.now(),
      deadLetter,
    });
    if (added) {
      this.metrics.recordsConsumed.inc();
      this.metrics.readingsConsumed.inc(record?.points.length ?? 0);
    }
  }

  /**
   * This partition's claim, made on the first record after an assignment. Retries while MongoDB is away
   * (heartbeating so the group keeps us), and waits out a write an earlier owner may still have in flight.
   */
  private async ownership(context: KafkaContext): Promise<OwnedPartition> {
    for (;;) {
      try {
        const owned = await this.fence.claim(context.getTopic(), context.getPartition());
        while (Date.now() < owned.settleUntil) {
          await context.getHeartbeat()();
          await sleep(Math.min(1000, owned.settleUntil - Date.now()));
        }
        return owned;
      } catch (error) {
        this.logger.warn(
          `cannot claim partition ${context.getPartition()} yet (${(error as Error).message}); retrying`,
        );
        await context
          .getHeartbeat()()
          .catch(() => undefined);
        await sleep(CLAIM_RETRY_MS);
      }
    }
  }

  /**
   * Sends an unusable record's bytes to its topic's dead-letter topic (awaiting the broker's ack, before its
   * offset can be committed); the copy kept for MongoDB (text, or base64 when not UTF-8) goes with the batch.
   * The partition moves on.
   */
  private async sendToDeadLetters(context: KafkaContext, bytes: Buffer | null, reason: string): Promise<DeadLetter> {
    const message = context.getMessage();
    const topic = context.getTopic();
    const partition = context.getPartition();
    const key = message.key === null || message.key === undefined ? null : String(message.key);
    await sendToDeadLetterTopic(
      context.getProducer(),
      { topic, partition, offset: String(message.offset), key },
      bytes,
      reason,
    );
    this.metrics.deadLetters.inc();
    this.logger.warn(`record ${topic}/${partition}@${message.offset} sent to ${deadLetterTopic(topic)}: ${reason}`);
    return {
      _id: `${topic}:${partition}:${message.offset}`,
      sourceTopic: topic,
      partition,
      offset: String(message.offset),
      reason,
      key,
      // A tombstone is kept as an empty value.
      ...deadLetterValue(bytes ?? Buffer.alloc(0)),
      deadLetteredAt: new Date(),
    };
  }
}
