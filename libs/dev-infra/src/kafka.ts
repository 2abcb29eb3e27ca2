// Kafka: probe a broker, and start a single-node KRaft broker (broker + controller) on this machine.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { cdsArgs, componentVersion, KAFKA_LOG4J, resolveJava, resolveLauncher } from './java.js';
import { FUNNEL_DIR, REPO_ROOT, rel, secs, tail, toLog, type Log } from './paths.js';
import { runProcess } from './process-runner.js';
import {
  assertPortFree,
  restartInPlace,
  superviseProcess,
  withStartLock,
  type ServerControl,
  type UnexpectedExit,
} from './processes.js';

export interface KafkaHandle extends ServerControl {
  kind: 'kafka';
  brokers: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  logFile: string;
  version: string;
}

/** A broker found answering, not started here. */
export interface ExternalKafka extends ServerControl {
  kind: 'external';
  brokers: string;
}

export interface KafkaOptions {
  port?: number;
  controllerPort?: number;
  host?: string;
  dataDir?: string;
  heapMb?: number;
  numPartitions?: number;
  extraProperties?: Record<string, string>;
  readyTimeoutMs?: number;
  dieWithParent?: boolean;
  onUnexpectedExit?: (info: UnexpectedExit) => void;
  log?: Log;
}

/** kafkajs, loaded on first use so that `devstack fetch` and `down` work before `npm install`. */
export async function loadKafkajs(): Promise<typeof import('kafkajs')> {
  try {
    const module = await import('kafkajs');
    return (module as { default?: typeof import('kafkajs') }).default ?? module;
  } catch (err) {
    throw new Error(`kafkajs is not installed (run npm install in ${REPO_ROOT}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * One metadata round trip with kafkajs; throws if the broker does not answer.
 * `warm` also asks for a group coordinator and a producer id, so a fresh broker creates __consumer_offsets
 * and fetches its first producer-id block now rather than during the first consumer join or idempotent
 * producer connect, where kafkajs logs the retried "coordinator not available/loading" as ERROR.
 */
export async function probeKafka(
  brokers: string,
  { timeoutMs = 3000, warm = false }: { timeoutMs?: number; warm?: boolean } = {},
): Promise<{ clusterId: string; brokers: number; topics: string[] }> {
  const { Kafka, logLevel } = await loadKafkajs();
  const kafka = new Kafka({
    clientId: 'funnel-infra-probe',
    brokers: brokers
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 1000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    if (warm) {
      await admin.describeGroups(['funnel-infra-warmup']);
      // kafkajs refuses an idempotent producer with retries < 1.
      const producer = kafka.producer({
        idempotent: true,
        retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      try {
        await producer.connect();
      } finally {
        await producer.disconnect().catch(() => {});
      }
    }
    return { clusterId: cluster.clusterId, brokers: cluster.brokers.length, topics };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// Kafka's Uuid.toString(): 16 random bytes, URL-safe base64 without padding; one starting with '-' is
// rejected by Kafka, so draw again. Saves a JVM start (StorageTool random-uuid).
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Properties of internal topics and defaults that depend on how many nodes there are (one, or a cluster). */
export function replicationProperties(nodes: number): Record<string, string> {
  // One node: every internal topic must accept replication factor 1, or it is never created. Three or
  // more: RF 3 and min ISR 2, so that acks=all means "on two machines" and one node may be down.
  const rf = String(Math.min(3, nodes));
  const isr = nodes >= 3 ? '2' : '1';
  return {
    'default.replication.factor': rf,
    'min.insync.replicas': isr,
    'offsets.topic.replication.factor': rf,
    'transaction.state.log.replication.factor': rf,
    'transaction.state.log.min.isr': isr,
    'share.coordinator.state.topic.replication.factor': rf,
    'share.coordinator.state.topic.min.isr': isr,
  };
}

export function kafkaServerProperties(o: {
  host: string;
  port: number;
  controllerPort: number;
  logDirs: string;
  numPartitions: number;
  extraProperties: Record<string, string>;
  nodeId?: number;
  /** controller.quorum.voters; default: this node alone. */
  voters?: string;
  nodes?: number;
}): string {
  const nodeId = o.nodeId ?? 1;
  const props = {
    'process.roles': 'broker,controller',
    'node.id': String(nodeId),
    // With controller.quorum.voters the storage is formatted WITHOUT --standalone.
    'controller.quorum.voters': o.voters ?? `${nodeId}@${o.host}:${o.controllerPort}`,
    listeners: `PLAINTEXT://${o.host}:${o.port},CONTROLLER://${o.host}:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${o.host}:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': o.logDirs,
    'num.partitions': String(o.numPartitions),
    ...replicationProperties(o.nodes ?? 1),
    // The default delay before the first rebalance would slow every test's first consumer join.
    'group.initial.rebalance.delay.ms': '0',
    'auto.create.topics.enable': 'true',
    ...o.extraProperties,
  };
  return `${Object.entries(props)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}

/**
 * Starts a single-node Kafka (KRaft, broker + controller) and waits until kafkajs can read its metadata.
 * Without `dataDir`, a fresh .funnel/kafka-<port>/ is used (emptied first). With `dataDir`, storage that
 * is already formatted there is reused as is (a broker restarted from another process keeps its topics).
 */
export async function startKafka({
  port = 9092,
  controllerPort = port === 9092 ? 9093 : port + 1,
  host = '127.0.0.1',
  dataDir: requestedDir,
  heapMb = 512,
  numPartitions = 3,
  extraProperties = {},
  readyTimeoutMs = 90_000,
  dieWithParent = true,
  onUnexpectedExit,
  log,
}: KafkaOptions = {}): Promise<KafkaHandle> {
  const dataDir = path.resolve(requestedDir ?? path.join(FUNNEL_DIR, `kafka-${port}`));
  const brokers = `${host}:${port}`;
  return launchKafkaNode({
    name: `kafka-${port}`,
    host,
    port,
    controllerPort,
    dataDir,
    fresh: requestedDir === undefined,
    clusterId: kafkaClusterId(),
    properties: (logDirs) =>
      kafkaServerProperties({ host, port, controllerPort, logDirs, numPartitions, extraProperties }),
    heapMb,
    readyTimeoutMs,
    dieWithParent,
    onUnexpectedExit,
    log,
    waitReady: () => probeKafka(brokers, { warm: true }),
  });
}

/** One KRaft node to launch: a single broker, or one node of a cluster (same cluster id on every node). */
export interface KafkaNodeSpec {
  name: string;
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  /** Empty the data dir first (otherwise formatted storage found there is reused). */
  fresh: boolean;
  clusterId: string;
  /** server.properties, given the log dir. */
  properties: (logDirs: string) => string;
  heapMb: number;
  readyTimeoutMs: number;
  dieWithParent: boolean;
  onUnexpectedExit?: (info: UnexpectedExit) => void;
  log?: Log;
  waitReady: () => Promise<unknown>;
  /** Extra words for the "started" line (e.g. "node 2 of 3"). */
  label?: string;
}

/** Formats (unless already formatted) and starts one KRaft node, under its start lock; resolves once it answers. */
export async function launchKafkaNode(spec: KafkaNodeSpec): Promise<KafkaHandle> {
  const { name, host, port, controllerPort, dataDir, log, dieWithParent } = spec;
  const say = toLog(log);
  const version = componentVersion('kafka');
  const [{ java }, launcher] = await Promise.all([resolveJava(), resolveLauncher('kafka', { log })]);
  const logDirs = path.join(dataDir, 'data');
  const propsFile = path.join(dataDir, 'server.properties');

  const prepareStorage = async () => {
    if (spec.fresh) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(propsFile, spec.properties(logDirs));
    if (fs.existsSync(path.join(logDirs, 'meta.properties'))) return;
    // A one-shot tool: the broker's class-data archive (same classpath) and C1 alone make it start faster.
    const formatJvm = ['-Xmx256m', '-XX:TieredStopAtLevel=1', KAFKA_LOG4J];
    if (launcher.cdsArchive && fs.existsSync(launcher.cdsArchive)) {
      formatJvm.push(`-XX:SharedArchiveFile=${launcher.cdsArchive}`, '-Xlog:cds=off', '-Xlog:cds+dynamic=off');
    }
    const r = await runProcess(java, {
      cwd: REPO_ROOT,
      args: [
        ...formatJvm,
        '-cp',
        launcher.classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        spec.clusterId,
        '-c',
        propsFile,
      ],
    });
    if (r.code !== 0) throw new Error(`formatting Kafka storage in ${rel(dataDir)} failed:\n${tail(r.out, 30)}`);
  };

  const marker = `-Dfunnel.infra=${name}`;
  const brokers = `${host}:${port}`;
  const jvm = [
    `-Xms${spec.heapMb}m`,
    `-Xmx${spec.heapMb}m`,
    // The GC settings of Kafka's own kafka-run-class.sh.
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    KAFKA_LOG4J,
    marker,
    `-Dfunnel.exitOnStdinEof=${dieWithParent}`,
  ];
  const proc = superviseProcess({
    name,
    kind: 'kafka',
    command: java,
    args: [...jvm, '-cp', launcher.classpath, launcher.main, propsFile],
    cds: () => cdsArgs(launcher.cdsArchive),
    marker,
    waitReady: spec.waitReady,
    readyTimeoutMs: spec.readyTimeoutMs,
    log,
    dieWithParent,
    onUnexpectedExit: spec.onUnexpectedExit,
  });

  const startOnce = async (what: string) => {
    const started = Date.now();
    await proc.launch();
    say(
      `Kafka ${version}${spec.label ? ` ${spec.label}` : ''} ${what} on ${brokers} in ${secs(Date.now() - started)} (pid ${proc.pid}, data ${rel(dataDir)}, log ${rel(proc.logFile)})`,
    );
  };
  await withStartLock(
    name,
    async () => {
      await assertPortFree(port, host, `Kafka on port ${port}`);
      await assertPortFree(controllerPort, host, `the Kafka controller on port ${controllerPort}`);
      await prepareStorage();
      await startOnce('started');
    },
    { log },
  );

  return {
    kind: 'kafka',
    brokers,
    port,
    controllerPort,
    dataDir,
    logFile: proc.logFile,
    version,
    get pid() {
      return proc.pid;
    },
    stop: (timeoutMs) => proc.stop(timeoutMs),
    kill: () => proc.kill(),
    // Same data dir, no format: topics, offsets and committed group offsets survive.
    restart: () => restartInPlace({ name, proc, port, host, what: 'Kafka', startOnce, log }),
  };
}
