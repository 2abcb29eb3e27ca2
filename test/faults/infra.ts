// The fault suite's own Kafka broker and MongoDB server, on ports apart from other test runs.
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';

import { startKafka, startMongo, type KafkaHandle, type MongoHandle } from '@funnel/dev-infra';

import { FaultCluster } from './cluster.js';

/**
 * Ports of the suite's own broker and MongoDB server, away from 9092/27017 (other test runs) and from the
 * ports other runs use. Kafka takes four consecutive ports:
 * client listener, controller, a second client listener for the gate, and the gate proxy itself.
 */
export interface FaultPorts {
  kafka: number;
  mongo: number;
  /** First port of the 3-node cluster of the cluster scenarios (36 ports from here; see cluster.ts). */
  cluster?: number;
}

export const RUNNER_PORTS: FaultPorts = { kafka: 19792, mongo: 37017, cluster: 19800 };
export const E2E_PORTS: FaultPorts = { kafka: 19892, mongo: 37018 };
/** test/cluster.e2e-spec.ts: the cluster only, with a MongoDB of its own. */
export const CLUSTER_E2E_PORTS: FaultPorts = { kafka: 0, mongo: 37019, cluster: 19940 };

export interface Offsets {
  /** Sum over partitions of the high watermark (records produced). */
  end: number;
  /** Sum over partitions of the group's committed offset (records done); unset partitions count as 0. */
  committed: number;
  /** end - committed. */
  lag: number;
  perPartition: Array<{ partition: number; end: number; committed: number }>;
}

/**
 * Kafka and MongoDB started by the suite itself, through @funnel/dev-infra.
 *
 * Kafka gets a second client listener, GATED, whose advertised address is a proxy port: a client
 * bootstrapped through the proxy learns the proxy's address from the metadata (Kafka answers with the
 * addresses of the listener a request came in on) and keeps all its traffic on it. That is how a
 * TcpProxy can sit between one worker and the broker while the api talks to the broker directly.
 *
 * MongoDB uses the h2 backend of the stand-in (or a mongod, if one is on PATH): a stop and restart keeps
 * the data, as a real server does.
 */
export class FaultInfra {
  private mongoClient?: MongoClient;

  private constructor(
    readonly ports: FaultPorts,
    readonly kafka: KafkaHandle,
    readonly mongo: MongoHandle,
    /** Set for the cluster scenarios' infrastructure (then `kafka` is its node 1). */
    readonly cluster?: FaultCluster,
    private readonly ownsMongo = true,
  ) {}

  /**
   * The cluster scenarios' infrastructure: a 3-node cluster (meshed through proxies when `mesh`), and the
   * MongoDB of `shareMongo` if given (it is then left running by stop()), else one of its own.
   */
  static async startCluster(
    ports: FaultPorts,
    log: (line: string) => void,
    { mesh = false, shareMongo }: { mesh?: boolean; shareMongo?: FaultInfra } = {},
  ): Promise<FaultInfra> {
    if (!ports.cluster) throw new Error('these fault ports have no cluster base port');
    const [cluster, mongo] = await Promise.all([
      FaultCluster.start(ports.cluster, log, { mesh }),
      shareMongo ? shareMongo.mongo : startMongo({ port: ports.mongo, backend: 'h2', uri: null, log }),
    ]);
    return new FaultInfra(ports, cluster.node(1), mongo, cluster, !shareMongo);
  }

  static async start(ports: FaultPorts, log: (line: string) => void): Promise<FaultInfra> {
    const p = ports.kafka;
    const [kafka, mongo] = await Promise.all([
      startKafka({
        port: p,
        controllerPort: p + 1,
        numPartitions: 3,
        log,
        extraProperties: {
          listeners: `PLAINTEXT://127.0.0.1:${p},CONTROLLER://127.0.0.1:${p + 1},GATED://127.0.0.1:${p + 2}`,
          'advertised.listeners': `PLAINTEXT://127.0.0.1:${p},GATED://127.0.0.1:${p + 3}`,
          'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,GATED:PLAINTEXT',
        },
      }),
      // uri: null, or a MONGODB_URI in the environment (jest's global setup sets one) would be used instead.
      startMongo({ port: ports.mongo, backend: 'h2', uri: null, log }),
    ]);
    return new FaultInfra(ports, kafka, mongo);
  }

  get brokers(): string {
    return this.cluster?.brokers ?? this.kafka.brokers;
  }

  /** Where a gate proxy must listen: the GATED listener advertises this address. */
  get gatePort(): number {
    return this.ports.kafka + 3;
  }

  /** The GATED listener, the gate proxy's upstream. */
  get gatedListener(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.ports.kafka + 2 };
  }

  mongoUri(db: string, port = this.ports.mongo): string {
    return `mongodb://127.0.0.1:${port}/${db}`;
  }

  /** A driver connection of the suite's own, for reading what is stored (reconnects after a restart). */
  get client(): MongoClient {
    this.mongoClient ??= new MongoClient(this.mongoUri('admin'), {
      serverSelectionTimeoutMS: 10_000,
      directConnection: true,
    });
    return this.mongoClient;
  }

  /** A fresh admin client per call: it must work across broker restarts. */
  async admin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = new Kafka({
      clientId: 'funnel-faults',
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

  async createTopic(topic: string, partitions = 3): Promise<void> {
    if (this.cluster) return this.cluster.createTopic(topic, partitions);
    await this.admin((admin) =>
      admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions }] }),
    );
  }

  /** Produced vs committed offsets of a consumer group on a topic. */
  async offsets(topic: string, groupId: string): Promise<Offsets> {
    return this.admin(async (admin) => {
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const done = new Map(committed?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]) ?? []);
      const perPartition = ends
        .map((e) => ({ partition: e.partition, end: Number(e.high), committed: done.get(e.partition) ?? 0 }))
        .sort((a, b) => a.partition - b.partition);
      const end = perPartition.reduce((s, p) => s + p.end, 0);
      const sum = perPartition.reduce((s, p) => s + p.committed, 0);
      return { end, committed: sum, lag: end - sum, perPartition };
    });
  }

  async stop(): Promise<void> {
    await this.mongoClient?.close().catch(() => undefined);
    await Promise.all([
      this.cluster ? this.cluster.stop() : this.kafka.stop(),
      this.ownsMongo ? this.mongo.stop() : undefined,
    ]);
  }
}
