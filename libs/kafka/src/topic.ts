// Creates the readings topic and its dead-letter topic when they are missing.
import { Logger } from '@nestjs/common';
import { Kafka } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

import { deadLetterTopic } from './dead-letter-topic.js';
import { kafkaClientConfig } from './kafka-options.js';

/**
 * Creates the readings topic with KAFKA_TOPIC_PARTITIONS partitions if it does not exist yet.
 * Leaves an existing topic alone; failures are logged, not thrown (the broker may not be up yet).
 */
export async function ensureTopic(config: FunnelConfig, logger: Logger): Promise<boolean> {
  const admin = new Kafka(kafkaClientConfig(config, 'admin')).admin();
  try {
    await admin.connect();
    const existing = await admin.listTopics();
    // The dead-letter topic gets one partition: it is small, and one partition keeps it in arrival order.
    const wanted = [
      { topic: config.KAFKA_TOPIC, numPartitions: config.KAFKA_TOPIC_PARTITIONS },
      { topic: deadLetterTopic(config.KAFKA_TOPIC), numPartitions: 1 },
    ].filter((t) => !existing.includes(t.topic));
    if (wanted.length > 0) {
      // false (not an error) when another process created them in the meantime
      await admin.createTopics({ waitForLeaders: true, topics: wanted });
      logger.log(`ensured topics ${wanted.map((t) => `${t.topic} (${t.numPartitions} partitions)`).join(', ')}`);
    }
    return true;
  } catch (error) {
    logger.warn(`could not ensure topic ${config.KAFKA_TOPIC}: ${(error as Error).message}`);
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
