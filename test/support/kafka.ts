/** Kafka as the e2e tests see it: a client on the test broker, and "the worker group has caught up" as a condition. */
import { Kafka, logLevel } from 'kafkajs';

import { pollUntil } from '@funnel/dev-infra';

import { infra } from './env.js';

/** A quiet kafkajs client on the broker the global setup started. */
export function testKafka(clientId: string): Kafka {
  return new Kafka({ clientId, brokers: infra().brokers.split(','), logLevel: logLevel.NOTHING });
}

/**
 * True once `groupId` has committed every partition of `topic` up to its end. The worker commits a batch's
 * offsets only after writing its readings, rollups and dead letters, so from then on everything sent before
 * the call is in MongoDB and nothing more will come of it: the moment to assert "stored once, no more".
 */
export async function caughtUp(kafka: Kafka, topic: string, groupId: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const at = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
    // A partition nothing was ever sent to has no commit (-1) and nothing to catch up on.
    return ends.every((p) => Number(p.high) === Number(p.low) || (at.get(p.partition) ?? -1) >= Number(p.high));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until the worker group of `env` has written and committed everything sent to its topic so far. Call it
 * after the last POST was acknowledged (a 202 means the broker has the records) and before asserting that
 * something was stored exactly once or not at all.
 */
export async function workerCaughtUp(env: Record<string, string>, timeoutMs = 60_000): Promise<void> {
  const kafka = testKafka('e2e-caught-up');
  await pollUntil(
    `group ${env.KAFKA_GROUP_ID} to commit ${env.KAFKA_TOPIC} to its end`,
    () => caughtUp(kafka, env.KAFKA_TOPIC, env.KAFKA_GROUP_ID),
    { timeoutMs },
  );
}
