// End-to-end checks of topic replication on the single test broker and of MongoDB's replica-set readiness detail.
import { afterAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';
import { TOPIC_RESOURCE } from '@funnel/kafka';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess, type FunnelRole } from './support/funnel-process.js';
import { getJson, postJson, type ReadinessAnswer } from './support/http.js';
import { testKafka } from './support/kafka.js';
import { jsonLines } from './support/log-lines.js';
import { storedCount } from './support/mongo.js';

const kafka = testKafka('e2e-topics');

/** Partitions, replicas per partition and min.insync.replicas of `topic`, as the broker reports them. */
async function topicShape(topic: string): Promise<{ partitions: number; replicas: number[]; minIsr?: string }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    const configs = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['min.insync.replicas'] }],
    });
    return {
      partitions: meta.partitions.length,
      replicas: meta.partitions.map((p) => p.replicas.length),
      minIsr: configs.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue,
    };
  } finally {
    await admin.disconnect();
  }
}

describe('topic replication and the MongoDB write concern', () => {
  const started: FunnelProcess[] = [];
  const launch = async (role: FunnelRole, env: Record<string, string>) => {
    const process = (await FunnelProcess.onFreePort(role, env)).start();
    started.push(process);
    return process;
  };

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  }, 40_000);

  it('creates a fresh topic and its dead-letter topic with the configured partitions and min.insync.replicas=1, writes with w: majority, and reports no replica set', async () => {
    const env: Record<string, string> = { ...isolatedEnv('topics-fresh'), KAFKA_TOPIC_PARTITIONS: '2' };
    const funnel = await launch('all', env);
    await funnel.waitReady();

    expect(await topicShape(env.KAFKA_TOPIC)).toEqual({ partitions: 2, replicas: [1, 1], minIsr: '1' });
    expect(await topicShape(`${env.KAFKA_TOPIC}.dlq`)).toMatchObject({ partitions: 1, replicas: [1], minIsr: '1' });

    // The default write concern (majority) is accepted by a server that is not a replica set.
    const readings = [1, 2, 3].map((value) => ({ sensorId: 'rf', metric: 'm', value }));
    expect((await postJson(`${funnel.url}/v1/points`, readings)).status).toBe(202);
    await pollUntil('the readings stored', async () => (await storedCount(env.MONGODB_URI)) === readings.length);

    const ready = await getJson<ReadinessAnswer>(`${funnel.url}/health/ready`);
    expect(ready.json.details?.mongodb).toMatchObject({ status: 'up', replicaSet: false });
  }, 90_000);

  it('leaves a pre-created topic with fewer partitions than the setting alone and warns about it once', async () => {
    const env: Record<string, string> = { ...isolatedEnv('topics-short'), KAFKA_TOPIC_PARTITIONS: '3' };
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: env.KAFKA_TOPIC, numPartitions: 1 }] });
    } finally {
      await admin.disconnect();
    }
    // role all: the api and the worker both ensure the topic, yet the warning comes once.
    const funnel = await launch('all', env);
    await funnel.waitReady();

    const warnings = jsonLines(funnel).filter((l) => l.msg?.includes(`topic ${env.KAFKA_TOPIC} is below the settings`));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40 });
    expect(warnings[0].msg).toContain('partitions 1 < 3');
    expect((await topicShape(env.KAFKA_TOPIC)).partitions).toBe(1);
  }, 90_000);

  it('refuses to start with KAFKA_REPLICATION_FACTOR above the broker count, with a clear message and no stack', async () => {
    const env: Record<string, string> = { ...isolatedEnv('topics-rf3'), KAFKA_REPLICATION_FACTOR: '3' };
    const worker = await launch('worker', env);
    await pollUntil('the worker to exit', async () => !worker.running, { timeoutMs: 60_000 });

    expect(await worker.stop()).toBe(2);
    const output = worker.output();
    expect(output).toContain('KAFKA_REPLICATION_FACTOR=3 needs at least 3 Kafka brokers, but the cluster has 1');
    expect(output).not.toMatch(/^\s+at /m);
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.listTopics()).not.toContain(env.KAFKA_TOPIC);
    } finally {
      await admin.disconnect();
    }
  }, 90_000);
});
