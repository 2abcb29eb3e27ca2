import { Logger } from '@nestjs/common';
import { Kafka } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

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
    if (!existing.includes(config.KAFKA_TOPIC)) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: config.KAFKA_TOPIC, numPartitions: config.KAFKA_TOPIC_PARTITIONS }],
      });
      logger.log(`created topic ${config.KAFKA_TOPIC} with ${config.KAFKA_TOPIC_PARTITIONS} partitions`);
    }
    return true;
  } catch (error) {
    logger.warn(`could not ensure topic ${config.KAFKA_TOPIC}: ${(error as Error).message}`);
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
