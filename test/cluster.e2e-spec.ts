// The Kafka cluster in `npm test`: a 3-node KRaft cluster of its own (CLUSTER_E2E_PORTS, apart from the
// global setup's broker), the leader of a partition SIGKILLed under load in the fault suite's short mode,
// and the replication Funnel gives the topics it creates there. The other cluster scenarios (rolling
// restart, one and two brokers down, a network partition, scale-out kills) run with `npm run test:faults`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ConfigResourceTypes } from 'kafkajs';

import { becomesTrue } from '@funnel/dev-infra';

import { PROFILES } from './faults/harness.js';
import { CLUSTER_E2E_PORTS } from './faults/infra.js';
import { details, table } from './faults/report.js';
import { FaultSuite } from './faults/suite.js';

// kafkajs' ConfigResourceTypes.TOPIC (a CommonJS enum the ES module loader cannot name).
const TOPIC_RESOURCE = 2 as ConfigResourceTypes;
const lines: string[] = [];
const suite = new FaultSuite(PROFILES.short, CLUSTER_E2E_PORTS, (line) => lines.push(line));

describe('Kafka cluster (3 nodes, RF 3, min ISR 2)', () => {
  beforeAll(async () => {
    // No proxies between the nodes: the leader kill does not need them.
    await suite.startCluster({ mesh: false });
  }, 240_000);

  afterAll(async () => {
    await suite.stop();
    if (suite.results.length) process.stdout.write(`\n${table(suite.results)}\n`);
  }, 90_000);

  it('lists three brokers, each its own node', async () => {
    const cluster = suite.cluster!;
    // A broker that misses heartbeats on a busy machine is fenced for a moment (4 s session timeout here) and
    // left out of the metadata until it is back: wait for all three rather than take one answer.
    const listed = async () => (await cluster.admin((admin) => admin.describeCluster())).brokers;
    let described = await listed();
    await becomesTrue('the cluster to list three brokers', async () => (described = await listed()).length === 3, {
      timeoutMs: 30_000,
      intervalMs: 500,
    });
    expect(described.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    expect(new Set(described.map((b) => b.port)).size).toBe(3);
  }, 60_000);

  it('leader SIGKILLed under load: every acked reading stored exactly once', async () => {
    const result = await suite.run('c1');
    const failed = result.checks.filter((c) => !c.ok);
    if (failed.length) process.stdout.write(`${details([result])}\n${lines.slice(-20).join('\n')}\n`);
    expect({ acked: result.acked > 0, lost: result.lost, duplicated: result.duplicated }).toEqual({
      acked: true,
      lost: 0,
      duplicated: 0,
    });
    expect(failed.map((c) => `${c.name}${c.detail ? `: ${c.detail.slice(0, 400)}` : ''}`)).toEqual([]);
  }, 240_000);

  it('the dead-letter topic Funnel created there has RF 3 and min.insync.replicas 2', async () => {
    // Created by Funnel's own ensureTopic during the scenario (its readings topic was made by the suite).
    const topic = `funnel.faults.${suite.runTag}-sc1.dlq`;
    const cluster = suite.cluster!;
    const parts = await cluster.partitions(topic);
    expect(parts.length).toBe(1);
    expect(parts.map((p) => p.replicas.length)).toEqual([3]);
    const configs = await cluster.admin((admin) =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['min.insync.replicas'] }],
      }),
    );
    expect(configs.resources[0]?.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue).toBe(
      '2',
    );
  }, 60_000);
});
