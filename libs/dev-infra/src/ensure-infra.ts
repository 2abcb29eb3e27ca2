// ensureInfra: make Kafka and MongoDB answer on their target addresses, reusing what runs, starting the rest.
import { resolveLauncher } from './java.js';
import { startKafkaCluster, type KafkaClusterHandle } from './kafka-cluster.js';
import { probeKafka, startKafka, type ExternalKafka, type KafkaHandle, type KafkaOptions } from './kafka.js';
import { externalMongoHandle, probeMongo, startMongo, type MongoHandle, type MongoOptions } from './mongo.js';
import { redact, toLog, type Log } from './paths.js';
import { answersWithin, externalControl, portAnswers, withStartLock, type UnexpectedExit } from './processes.js';

export interface Infra {
  kafka: KafkaHandle | KafkaClusterHandle | ExternalKafka;
  mongo: MongoHandle;
  startedByUs: Array<'kafka' | 'mongo'>;
  /** Stops what this call started (nothing it reused): SIGTERM, then SIGKILL after `timeoutMs` (default 30 s) for one that hangs. */
  stopAll(timeoutMs?: number): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

function singleLoopbackAddress(list: string): { host: string; port: number } | null {
  const parts = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length !== 1) return null;
  const m = /^(.+):(\d+)$/.exec(parts[0]!);
  return m && LOOPBACK.has(m[1]!) ? { host: m[1] === 'localhost' ? '127.0.0.1' : m[1]!, port: Number(m[2]) } : null;
}

function mongoLoopbackTarget(uri: string): { host: string; port: number; dbName: string } | null {
  const m = /^mongodb:\/\/([^/@,?]+):(\d+)(?:\/([^?]*))?/.exec(uri);
  return m && LOOPBACK.has(m[1]!)
    ? { host: m[1] === 'localhost' ? '127.0.0.1' : m[1]!, port: Number(m[2]), dbName: m[3] || 'funnel' }
    : null;
}

/**
 * Makes sure Kafka and MongoDB answer: reuses whatever already answers on the target address
 * (Kafka: $KAFKA_BROKERS or 127.0.0.1:9092; MongoDB: $MONGODB_URI or mongodb://127.0.0.1:27017/funnel),
 * otherwise starts one there (a target that is not a single loopback address must already answer).
 * What it starts is recorded in .funnel/infra-state.json for stopStarted().
 */
export async function ensureInfra({
  log,
  kafka: kafkaOptions = {},
  mongo: mongoOptions = {},
  onUnexpectedExit,
  kafkaNodes = 1,
}: {
  log?: Log;
  /** Kafka nodes to start when none answers: 1 (default) or a loopback cluster (startKafkaCluster). */
  kafkaNodes?: number;
  kafka?: KafkaOptions;
  mongo?: MongoOptions;
  onUnexpectedExit?: (info: UnexpectedExit) => void;
} = {}): Promise<Infra> {
  const say = toLog(log);
  const kafkaBase = kafkaOptions.port ?? 9092;
  // A cluster's node i listens on base + 2(i-1) (its controller on the port after).
  const clusterTarget = Array.from({ length: kafkaNodes }, (_, i) => `127.0.0.1:${kafkaBase + 2 * i}`).join(',');
  const kafkaTarget = process.env.KAFKA_BROKERS || (kafkaNodes > 1 ? clusterTarget : `127.0.0.1:${kafkaBase}`);
  const mongoTarget =
    process.env.MONGODB_URI || `mongodb://127.0.0.1:${mongoOptions.port ?? 27017}/${mongoOptions.dbName ?? 'funnel'}`;

  const kafkaAt =
    kafkaNodes > 1 && kafkaTarget === clusterTarget
      ? { host: '127.0.0.1', port: kafkaBase }
      : singleLoopbackAddress(kafkaTarget);
  const mongoAt = mongoLoopbackTarget(mongoTarget);

  // A closed local port means nothing is there. An open one (or a remote address) is given time to answer,
  // since it may be a server that another process is still starting; starting a second one would only fail.
  const reuseKafka = async (): Promise<ExternalKafka | null> => {
    if (kafkaAt && !(await portAnswers(kafkaAt.port, kafkaAt.host))) return null;
    const info = await answersWithin(
      () => probeKafka(kafkaTarget, { timeoutMs: 3000 }),
      30_000,
      `Kafka at ${kafkaTarget}`,
    );
    say(
      `Kafka: reusing ${kafkaTarget} (cluster ${info.clusterId}, ${info.brokers} broker${info.brokers === 1 ? '' : 's'}, ${info.topics.length} topics)`,
    );
    if (kafkaNodes > 1 && info.brokers < kafkaNodes) {
      say(`Kafka: asked for ${kafkaNodes} brokers, but ${kafkaTarget} has ${info.brokers} (stop it to get a cluster)`);
    }
    return { ...externalControl(kafkaTarget), kind: 'external', brokers: kafkaTarget };
  };
  const reuseMongo = async (): Promise<MongoHandle | null> => {
    if (mongoAt && !(await portAnswers(mongoAt.port, mongoAt.host))) return null;
    const info = await answersWithin(
      () => probeMongo(mongoTarget, { timeoutMs: 2000 }),
      30_000,
      `MongoDB at ${redact(mongoTarget)}`,
    );
    say(`MongoDB: reusing ${redact(mongoTarget)} (server ${info.version ?? '?'})`);
    return externalMongoHandle(mongoTarget, info);
  };

  // Probe, and only if nothing answers: download (outside the lock), then probe again under the start lock,
  // where another process may have started the server meanwhile.
  const kafkaPromise = (async (): Promise<KafkaHandle | KafkaClusterHandle | ExternalKafka> => {
    const reused = await reuseKafka();
    if (reused) return reused;
    // reuseKafka returns null only for a loopback target.
    const at = kafkaAt!;
    await resolveLauncher('kafka', { log });
    if (kafkaNodes > 1) {
      const { port: _port, controllerPort: _controller, extraProperties, ...clusterOptions } = kafkaOptions;
      return withStartLock(
        `kafka-cluster-${at.port}`,
        async () =>
          (await reuseKafka()) ??
          startKafkaCluster({
            log,
            onUnexpectedExit,
            ...clusterOptions,
            ...(extraProperties ? { extraProperties: () => extraProperties } : {}),
            nodes: kafkaNodes,
            host: at.host,
            basePort: at.port,
          }),
        { log },
      );
    }
    return withStartLock(
      `kafka-${at.port}`,
      async () =>
        (await reuseKafka()) ?? startKafka({ log, onUnexpectedExit, ...kafkaOptions, host: at.host, port: at.port }),
      { log },
    );
  })();

  const mongoPromise = (async (): Promise<MongoHandle> => {
    const reused = await reuseMongo();
    if (reused) return reused;
    const at = mongoAt!;
    return withStartLock(
      `mongo-${at.port}`,
      async () =>
        (await reuseMongo()) ??
        startMongo({
          log,
          onUnexpectedExit,
          ...mongoOptions,
          uri: null,
          host: at.host,
          port: at.port,
          dbName: at.dbName,
        }),
      { log },
    );
  })();

  const [kafkaResult, mongoResult] = await Promise.allSettled([kafkaPromise, mongoPromise]);
  const started = [kafkaResult, mongoResult].flatMap((r) =>
    r.status === 'fulfilled' && r.value.kind !== 'external' ? [r.value] : [],
  );
  if (kafkaResult.status === 'rejected' || mongoResult.status === 'rejected') {
    // Half-started infrastructure would only confuse the next attempt.
    await Promise.all(started.map((h) => h.stop()));
    throw kafkaResult.status === 'rejected' ? kafkaResult.reason : (mongoResult as PromiseRejectedResult).reason;
  }
  const kafka = kafkaResult.value;
  const mongo = mongoResult.value;
  return {
    kafka,
    mongo,
    startedByUs: [
      ...(kafka.kind !== 'external' ? (['kafka'] as const) : []),
      ...(mongo.kind !== 'external' ? (['mongo'] as const) : []),
    ],
    stopAll: async (timeoutMs?: number) => {
      await Promise.all(started.map((h) => h.stop(timeoutMs)));
    },
  };
}
