// Creates the readings topic and its dead-letter topic with the configured replication, and checks existing ones.
import { Logger } from '@nestjs/common';
import { Kafka, type Admin, type ConfigResourceTypes } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

import { deadLetterTopic } from './dead-letter-topic.js';
import { kafkaClientConfig } from './kafka-options.js';

/**
 * kafkajs' ConfigResourceTypes.TOPIC: the enum is a CommonJS export Node's ES module loader cannot name, so
 * only its type is imported.
 */
export const TOPIC_RESOURCE = 2 as ConfigResourceTypes;

/** Replication a topic is created with, and checked against when it exists. */
export interface TopicReplication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** Settings the cluster cannot satisfy: startup is refused with this message instead of a kafkajs stack. */
export class TopicSettingsError extends Error {}

/**
 * The replication factor and min.insync.replicas to use on a cluster of `brokers` brokers: a setting of 0
 * means the default (3 replicas when there are 3 brokers or more, else one per broker; min ISR 2 with 3 or
 * more replicas, else 1). Throws TopicSettingsError for settings the cluster cannot honour.
 */
export function topicReplication(
  config: Pick<FunnelConfig, 'KAFKA_REPLICATION_FACTOR' | 'KAFKA_MIN_INSYNC_REPLICAS'>,
  brokers: number,
): TopicReplication {
  const replicationFactor = config.KAFKA_REPLICATION_FACTOR || Math.min(3, Math.max(brokers, 1));
  if (replicationFactor > brokers) {
    throw new TopicSettingsError(
      `KAFKA_REPLICATION_FACTOR=${replicationFactor} needs at least ${replicationFactor} Kafka brokers, but the cluster has ${brokers}: lower it or add brokers`,
    );
  }
  const minInsyncReplicas = config.KAFKA_MIN_INSYNC_REPLICAS || (replicationFactor >= 3 ? 2 : 1);
  if (minInsyncReplicas > replicationFactor) {
    throw new TopicSettingsError(
      `KAFKA_MIN_INSYNC_REPLICAS=${minInsyncReplicas} is above the replication factor ${replicationFactor}: no write could ever be acknowledged`,
    );
  }
  return { replicationFactor, minInsyncReplicas };
}

/** What an existing topic has, as read from the broker. */
export interface TopicShape extends TopicReplication {
  partitions: number;
}

/** Where an existing topic falls short of what Funnel would create, as readable phrases (empty when it does not). */
export function topicShortfalls(actual: TopicShape, wanted: TopicShape): string[] {
  const names: Record<keyof TopicShape, string> = {
    partitions: 'partitions',
    replicationFactor: 'replication factor',
    minInsyncReplicas: 'min.insync.replicas',
  };
  return (Object.keys(names) as (keyof TopicShape)[])
    .filter((key) => actual[key] < wanted[key])
    .map((key) => `${names[key]} ${actual[key]} < ${wanted[key]}`);
}

/** Topics already warned about in this process: the api and the worker's retries call ensureTopic again. */
const warned = new Set<string>();

/**
 * Creates the readings topic (KAFKA_TOPIC_PARTITIONS partitions) and its dead-letter topic with the
 * replication of `topicReplication` if they do not exist yet. An existing topic is left as it is, with
 * one warning when it falls short of the settings. Broker failures are logged, not thrown (the broker may
 * not be up yet); settings the cluster cannot honour end the process, as an invalid setting does.
 */
export async function ensureTopic(config: FunnelConfig, logger: Logger): Promise<boolean> {
  const admin = new Kafka(kafkaClientConfig(config, 'admin')).admin();
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    const replication = topicReplication(config, brokers.length);
    // The dead-letter topic gets one partition: it is small, and one partition keeps it in arrival order.
    const wanted = [
      { topic: config.KAFKA_TOPIC, partitions: config.KAFKA_TOPIC_PARTITIONS },
      { topic: deadLetterTopic(config.KAFKA_TOPIC), partitions: 1 },
    ];
    const existing = await admin.listTopics();
    const missing = wanted.filter((t) => !existing.includes(t.topic));
    if (missing.length > 0) {
      // false (not an error) when another process created them in the meantime
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: replication.replicationFactor,
          configEntries: [{ name: 'min.insync.replicas', value: String(replication.minInsyncReplicas) }],
        })),
      });
      logger.log(
        `ensured topics ${missing.map((t) => `${t.topic} (${t.partitions} partitions)`).join(', ')} with replication factor ${replication.replicationFactor}, min.insync.replicas ${replication.minInsyncReplicas}`,
      );
    }
    // Marked before the awaits: the api and the worker of one process check concurrently.
    const unchecked = wanted.filter((t) => existing.includes(t.topic) && !warned.has(t.topic));
    unchecked.forEach((t) => warned.add(t.topic));
    await warnAboutShortTopics(admin, unchecked, replication, logger).catch((error: unknown) => {
      unchecked.forEach((t) => warned.delete(t.topic));
      throw error;
    });
    return true;
  } catch (error) {
    if (error instanceof TopicSettingsError) {
      logger.error(error.message);
      process.exit(2);
    }
    logger.warn(`could not ensure topic ${config.KAFKA_TOPIC}: ${(error as Error).message}`);
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Reads each existing topic's shape and warns once per topic where it is below the settings; never alters it. */
async function warnAboutShortTopics(
  admin: Admin,
  topics: { topic: string; partitions: number }[],
  replication: TopicReplication,
  logger: Logger,
): Promise<void> {
  if (topics.length === 0) {
    return;
  }
  const metadata = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((t) => ({
      type: TOPIC_RESOURCE,
      name: t.topic,
      configNames: ['min.insync.replicas'],
    })),
  });
  for (const { topic, partitions } of topics) {
    const meta = metadata.topics.find((m) => m.name === topic);
    const entry = configs.resources
      .find((r) => r.resourceName === topic)
      ?.configEntries.find((e) => e.configName === 'min.insync.replicas');
    if (!meta || !entry) {
      continue;
    }
    const actual: TopicShape = {
      partitions: meta.partitions.length,
      replicationFactor: Math.min(...meta.partitions.map((p) => p.replicas.length)),
      minInsyncReplicas: Number(entry.configValue),
    };
    const short = topicShortfalls(actual, { partitions, ...replication });
    if (short.length > 0) {
      logger.warn(`topic ${topic} is below the settings (${short.join(', ')}); Funnel leaves it as it is`);
    }
  }
}
