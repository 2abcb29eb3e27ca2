// A Kafka cluster on loopback: N combined broker+controller KRaft nodes, each its own ports and log dir.
import path from 'node:path';

import {
  kafkaClusterId,
  kafkaServerProperties,
  launchKafkaNode,
  probeKafka,
  type KafkaHandle,
  type KafkaOptions,
} from './kafka.js';
import { FUNNEL_DIR, rel, secs, toLog } from './paths.js';
import { pollUntil } from './poll.js';
import type { ServerControl } from './processes.js';

/** The ports of one node: its client (PLAINTEXT) listener and its controller listener. */
export interface KafkaNodePorts {
  port: number;
  controllerPort: number;
}

export interface KafkaClusterOptions extends Omit<KafkaOptions, 'port' | 'controllerPort' | 'extraProperties'> {
  /** Nodes of the cluster (default 3); node ids are 1..nodes. */
  nodes?: number;
  /** Node i (1-based) listens on basePort + 2(i-1) and its controller on the port after (default 9092). */
  basePort?: number;
  /** Explicit ports per node id, instead of basePort. */
  ports?: (nodeId: number) => KafkaNodePorts;
  /** Per-node additions to server.properties (e.g. more listeners). */
  extraProperties?: (nodeId: number) => Record<string, string>;
  /**
   * controller.quorum.voters as node `nodeId` sees it (default: every node's controller port, the same list
   * on each node). A fault suite can point a node at proxies in front of the other controllers.
   */
  voters?: (nodeId: number) => string;
}

export interface KafkaClusterHandle extends ServerControl {
  kind: 'kafka-cluster';
  /** Bootstrap list: every node's client listener. */
  brokers: string;
  /** Index 0 is node id 1. */
  nodes: KafkaHandle[];
  /** The node with this node.id. */
  node(nodeId: number): KafkaHandle;
  dataDir: string;
  version: string;
  /** Pids of the running nodes. */
  readonly pids: number[];
}

/**
 * Starts an N-node KRaft cluster on loopback (every node broker + controller, formatted with one cluster
 * id, static controller.quorum.voters) and waits until every node answers and each node lists N brokers.
 * With N >= 3 the internal topics get replication factor 3 and min ISR 2, and so do topics created
 * without explicit settings (default.replication.factor, min.insync.replicas). Without `dataDir` a fresh
 * .funnel/kafka-cluster-<basePort>/ is used (node-<id>/ per node).
 */
export async function startKafkaCluster({
  nodes: count = 3,
  basePort = 9092,
  ports = (id) => ({ port: basePort + 2 * (id - 1), controllerPort: basePort + 2 * (id - 1) + 1 }),
  host = '127.0.0.1',
  dataDir: requestedDir,
  heapMb = 512,
  numPartitions = 3,
  extraProperties = () => ({}),
  voters,
  readyTimeoutMs = 120_000,
  dieWithParent = true,
  onUnexpectedExit,
  log,
}: KafkaClusterOptions = {}): Promise<KafkaClusterHandle> {
  if (!Number.isInteger(count) || count < 1) throw new Error(`a Kafka cluster needs 1 or more nodes, not ${count}`);
  const say = toLog(log);
  const started = Date.now();
  const ids = Array.from({ length: count }, (_, i) => i + 1);
  const dataDir = path.resolve(requestedDir ?? path.join(FUNNEL_DIR, `kafka-cluster-${ports(1).port}`));
  const allVoters = ids.map((id) => `${id}@${host}:${ports(id).controllerPort}`).join(',');
  const brokers = ids.map((id) => `${host}:${ports(id).port}`).join(',');
  const clusterId = kafkaClusterId();

  // All nodes at once: none can answer before a majority of the controllers has formed a quorum.
  const launched = await Promise.allSettled(
    ids.map((nodeId) => {
      const { port, controllerPort } = ports(nodeId);
      return launchKafkaNode({
        name: `kafka-${port}`,
        label: `node ${nodeId} of ${count}`,
        host,
        port,
        controllerPort,
        dataDir: path.join(dataDir, `node-${nodeId}`),
        fresh: requestedDir === undefined,
        clusterId,
        properties: (logDirs) =>
          kafkaServerProperties({
            host,
            port,
            controllerPort,
            logDirs,
            numPartitions,
            nodeId,
            nodes: count,
            voters: voters?.(nodeId) ?? allVoters,
            extraProperties: extraProperties(nodeId),
          }),
        heapMb,
        readyTimeoutMs,
        dieWithParent,
        onUnexpectedExit,
        log,
        waitReady: () => probeKafka(`${host}:${port}`, { warm: true }),
      });
    }),
  );
  const handles = launched.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = launched.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(handles.map((h) => h.stop(10_000)));
    throw failed.reason;
  }
  // Each node asked on its own: a node's metadata cache learns of the others asynchronously, so the cluster
  // as one bootstrap list can answer "N brokers" while a client that lands on another node still sees fewer.
  const nodeAddresses = ids.map((id) => `${host}:${ports(id).port}`);
  await pollUntil(
    `every node of the Kafka cluster at ${brokers} to list ${count} brokers`,
    async () => (await Promise.all(nodeAddresses.map((b) => probeKafka(b)))).every((p) => p.brokers === count),
    { timeoutMs: readyTimeoutMs, intervalMs: 250 },
  ).catch(async (error: unknown) => {
    await Promise.all(handles.map((h) => h.stop(10_000)));
    throw error;
  });
  say(`Kafka cluster of ${count} nodes ready on ${brokers} in ${secs(Date.now() - started)} (data ${rel(dataDir)})`);

  const node = (nodeId: number): KafkaHandle => {
    const h = handles[nodeId - 1];
    if (!h) throw new Error(`no Kafka node ${nodeId}: the cluster has nodes 1..${count}`);
    return h;
  };
  return {
    kind: 'kafka-cluster',
    brokers,
    nodes: handles,
    node,
    dataDir,
    version: handles[0]!.version,
    get pid() {
      return handles[0]!.pid;
    },
    get pids() {
      return handles.flatMap((h) => (h.pid === null ? [] : [h.pid]));
    },
    // All at once: a node that waits for a controller that has gone is SIGKILLed after timeoutMs.
    stop: async (timeoutMs?: number) => {
      await Promise.all(handles.map((h) => h.stop(timeoutMs)));
    },
    kill: async () => {
      await Promise.all(handles.map((h) => h.kill()));
    },
    // One node after the other, each on its own data: a rolling restart.
    restart: async () => {
      for (const h of handles) await h.restart();
    },
  };
}
