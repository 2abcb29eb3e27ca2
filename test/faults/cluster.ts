// The fault suite's 3-node Kafka cluster: started through @funnel/dev-infra, optionally meshed through TCP proxies.
import { Kafka, logLevel, type Admin } from 'kafkajs';

import { becomesTrue, startKafkaCluster, type KafkaClusterHandle, type KafkaHandle } from '@funnel/dev-infra';

import { TcpProxy } from './tcp-proxy.js';

const HOST = '127.0.0.1';
const NODES = [1, 2, 3];
/** Ports per node: client, controller, three replication listeners, three replication proxies, three controller proxies. */
const STRIDE = 12;

/**
 * Settings that make failover fit a test's minutes: a SIGKILLed node is fenced after 4 s instead of 9 s
 * (its partitions get new leaders and it leaves every ISR then), and a follower that stops fetching
 * leaves the ISR after 8 s instead of 30 s. Heaps are small: three JVMs share two cores with everything else.
 */
const FAST_FAILOVER = {
  'broker.session.timeout.ms': '4000',
  'broker.heartbeat.interval.ms': '1000',
  'replica.lag.time.max.ms': '8000',
};
export const CLUSTER_HEAP_MB = 320;

/** One partition as the cluster describes it. */
export interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

/**
 * A 3-node KRaft cluster on loopback from `base` on (STRIDE ports per node).
 *
 * With `mesh`, every node-to-node connection goes through a TcpProxy of its own, one per direction and
 * kind: node i's replication fetches from node k use listener FROM_i on node k, advertised at a proxy
 * (each node names its own listener in inter.broker.listener.name), and node i's controller.quorum.voters
 * list the other controllers at proxies too. Clients still talk to every node directly. cut(n) then
 * refuses every connection between node n and the others, both ways: a network partition of one broker,
 * without root or network namespaces.
 */
export class FaultCluster {
  private constructor(
    readonly handle: KafkaClusterHandle,
    readonly base: number,
    private readonly proxies: Map<string, TcpProxy>,
  ) {}

  static async start(base: number, log: (line: string) => void, { mesh = false } = {}): Promise<FaultCluster> {
    const at = (node: number, offset: number) => base + STRIDE * (node - 1) + offset;
    const proxies = new Map<string, TcpProxy>();
    if (mesh) {
      for (const to of NODES) {
        for (const from of NODES.filter((n) => n !== to)) {
          // Replication from `from` to the FROM_<from> listener of `to`, and `from`'s controller traffic to `to`.
          proxies.set(
            `repl ${from}->${to}`,
            new TcpProxy(`repl-${from}-${to}`, { host: HOST, port: at(to, 1 + from) }, at(to, 4 + from)),
          );
          proxies.set(
            `ctrl ${from}->${to}`,
            new TcpProxy(`ctrl-${from}-${to}`, { host: HOST, port: at(to, 1) }, at(to, 7 + from)),
          );
        }
      }
      await Promise.all([...proxies.values()].map((p) => p.start()));
    }
    const meshProperties = (node: number): Record<string, string> => {
      if (!mesh) return {};
      const names = NODES.map((n) => `FROM_${n}`);
      return {
        listeners: [
          `PLAINTEXT://${HOST}:${at(node, 0)}`,
          `CONTROLLER://${HOST}:${at(node, 1)}`,
          ...NODES.map((n) => `FROM_${n}://${HOST}:${at(node, 1 + n)}`),
        ].join(','),
        'advertised.listeners': [
          `PLAINTEXT://${HOST}:${at(node, 0)}`,
          // Its own FROM_<node> is never used by anyone but must exist; the others are reached via proxies.
          ...NODES.map((n) => `FROM_${n}://${HOST}:${at(node, n === node ? 1 + n : 4 + n)}`),
        ].join(','),
        'listener.security.protocol.map': ['CONTROLLER', 'PLAINTEXT', ...names].map((n) => `${n}:PLAINTEXT`).join(','),
        'inter.broker.listener.name': `FROM_${node}`,
      };
    };
    try {
      const handle = await startKafkaCluster({
        nodes: 3,
        host: HOST,
        ports: (node) => ({ port: at(node, 0), controllerPort: at(node, 1) }),
        heapMb: CLUSTER_HEAP_MB,
        numPartitions: 3,
        log,
        extraProperties: (node) => ({ ...FAST_FAILOVER, ...meshProperties(node) }),
        ...(mesh
          ? {
              voters: (node: number) =>
                NODES.map((n) => `${n}@${HOST}:${n === node ? at(n, 1) : at(n, 7 + node)}`).join(','),
            }
          : {}),
      });
      return new FaultCluster(handle, base, proxies);
    } catch (error) {
      await Promise.all([...proxies.values()].map((p) => p.close()));
      throw error;
    }
  }

  get brokers(): string {
    return this.handle.brokers;
  }

  get meshed(): boolean {
    return this.proxies.size > 0;
  }

  node(id: number): KafkaHandle {
    return this.handle.node(id);
  }

  /** Cuts node `id` off from the other nodes (both directions); clients still reach it. */
  cut(id: number): void {
    if (!this.meshed) throw new Error('cut() needs a cluster started with mesh: true');
    for (const [key, proxy] of this.proxies) if (involves(key, id)) proxy.block(true);
  }

  /** Undoes cut(). */
  heal(id: number): void {
    for (const [key, proxy] of this.proxies) if (involves(key, id)) proxy.block(false);
  }

  /** A fresh admin client per call (nodes come and go), bootstrapped from every node. */
  async admin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Kafka({
      clientId: 'funnel-faults-cluster',
      brokers: this.brokers.split(','),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 10_000,
      retry: { retries: 2 },
    }).admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async partitions(topic: string): Promise<PartitionState[]> {
    return this.admin(async (admin) => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return (topics[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr }))
        .sort((a, b) => a.partition - b.partition);
    });
  }

  /**
   * Creates a topic (the brokers' defaults: RF 3, min ISR 2) and waits until every node knows its leaders: on a
   * fresh cluster a node can answer "does not host this topic-partition" for a while after the controller
   * created it, which kafkajs' own waitForLeaders does not retry.
   */
  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.admin((admin) =>
      admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions }] }),
    );
    const everyNode = this.brokers.split(',').map(
      (address) =>
        new Kafka({
          clientId: 'funnel-faults-topic',
          brokers: [address],
          logLevel: logLevel.NOTHING,
          retry: { retries: 0 },
        }),
    );
    const known = await becomesTrue(
      `${topic} known to every node`,
      async () => {
        for (const kafka of everyNode) {
          const admin = kafka.admin();
          try {
            await admin.connect();
            const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
            const parts = topics[0]?.partitions ?? [];
            if (parts.length !== partitions || parts.some((p) => p.leader < 0)) return false;
          } catch {
            return false;
          } finally {
            await admin.disconnect().catch(() => undefined);
          }
        }
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    if (!known) throw new Error(`topic ${topic} was not known to every node with leaders within 30 s`);
  }

  /** The node leading `partition` of `topic`. */
  async leaderOf(topic: string, partition = 0): Promise<number> {
    const state = (await this.partitions(topic)).find((p) => p.partition === partition);
    if (!state || state.leader < 0) throw new Error(`${topic}[${partition}] has no leader`);
    return state.leader;
  }

  /** Resolves true once every partition of each topic has all its replicas in sync (false after timeoutMs). */
  async fullIsr(topics: string[], timeoutMs: number): Promise<boolean> {
    return becomesTrue(
      `full ISR on ${topics.join(', ')}`,
      async () => {
        for (const topic of topics) {
          const parts = await this.partitions(topic).catch(() => []);
          if (parts.length === 0 || parts.some((p) => p.leader < 0 || p.isr.length < p.replicas.length)) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  async stop(): Promise<void> {
    for (const id of NODES) this.heal(id);
    await this.handle.stop(15_000);
    await Promise.all([...this.proxies.values()].map((p) => p.close()));
  }
}

const involves = (key: string, id: number) => new RegExp(`\\b${id}->|->${id}$`).test(key);
