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
function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function kafkaServerProperties(o: {
  host: string;
  port: number;
  controllerPort: number;
  logDirs: string;
  numPartitions: number;
  extraProperties: Record<string, string>;
}): string {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    // With controller.quorum.voters the storage is formatted WITHOUT --standalone.
    'controller.quorum.voters': `1@${o.host}:${o.controllerPort}`,
    listeners: `PLAINTEXT://${o.host}:${o.port},CONTROLLER://${o.host}:${o.controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${o.host}:${o.port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': o.logDirs,
    'num.partitions': String(o.numPartitions),
    // One node: every internal topic must accept replication factor 1, or it is never created.
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
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
  const say = toLog(log);
  const fresh = requestedDir === undefined;
  const dataDir = path.resolve(requestedDir ?? path.join(FUNNEL_DIR, `kafka-${port}`));
  const version = componentVersion('kafka');
  const [{ java }, launcher] = await Promise.all([resolveJava(), resolveLauncher('kafka', { log })]);
  const logDirs = path.join(dataDir, 'data');
  const propsFile = path.join(dataDir, 'server.properties');

  const prepareStorage = async () => {
    if (fresh) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(
      propsFile,
      kafkaServerProperties({ host, port, controllerPort, logDirs, numPartitions, extraProperties }),
    );
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
        kafkaClusterId(),
        '-c',
        propsFile,
      ],
    });
    if (r.code !== 0) throw new Error(`formatting Kafka storage in ${rel(dataDir)} failed:\n${tail(r.out, 30)}`);
  };

  const name = `kafka-${port}`;
  const marker = `-Dfunnel.infra=${name}`;
  const brokers = `${host}:${port}`;
  const jvm = [
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
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
    waitReady: () => probeKafka(brokers, { warm: true }),
    readyTimeoutMs,
    log,
    dieWithParent,
    onUnexpectedExit,
  });

  const startOnce = async (what: string) => {
    const started = Date.now();
    await proc.launch();
    say(
      `Kafka ${version} ${what} on ${brokers} in ${secs(Date.now() - started)} (pid ${proc.pid}, data ${rel(dataDir)}, log ${rel(proc.logFile)})`,
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
