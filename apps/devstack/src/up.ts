// `devstack up`: start (or reuse) Kafka and MongoDB, print their addresses, stop them on Ctrl-C.
import os from 'node:os';

import {
  componentVersion,
  ensureInfra,
  LOG_DIR,
  logTail,
  redact,
  rel,
  standInSizing,
  stopStarted,
  type Infra,
  type KafkaOptions,
  type MongoHandle,
  type MongoOptions,
  type StandInSizing,
  type UnexpectedExit,
} from '@funnel/dev-infra';

import { Foreground } from './foreground.js';

/** Ctrl-C must leave nothing running after 10 s, whatever state the servers are in; this leaves a margin. */
const STOP_BUDGET_MS = 9_000;
/** A server that ignored SIGTERM is SIGKILLed after at least this long. */
const MIN_GRACE_MS = 1_000;

/** The stand-in's heap from this machine's memory, and the documents it may hold (see standInSizing). */
export function localStoreSizing(backend: 'memory' | 'h2' = 'memory'): StandInSizing {
  return standInSizing(os.totalmem(), backend);
}

/** The stand-in's capacity when this run started it (MONGODB_CAPACITY_DOCS for Funnel), else undefined. */
export function startedStandInCapacity(mongo: MongoHandle, sizing: StandInSizing): number | undefined {
  return mongo.kind === 'mongo-java-server' ? sizing.capacityDocs : undefined;
}

/** What `up` and `stack` print about the local store. */
export function describeCapacity(sizing: StandInSizing): string {
  return (
    `holds up to ${sizing.capacityDocs.toLocaleString('en-US')} documents (readings and rollups) in a ` +
    `${(sizing.heapMb / 1024).toFixed(1)} GB heap (half of this machine's memory, capped); at 80 % the worker ` +
    'warns, at the limit it stops writing and the readings wait in Kafka. For more, set MONGODB_URI to a real MongoDB'
  );
}

/** How `up` describes the Kafka it uses. */
function describeKafka(kafka: Infra['kafka']): string {
  if (kafka.kind === 'external') return 'external: reused, not stopped on exit';
  if (kafka.kind === 'kafka') return `Kafka ${kafka.version}, pid ${kafka.pid}`;
  return `Kafka ${kafka.version}, ${kafka.nodes.length} nodes (broker + controller each), pids ${kafka.pids.join(', ')}; topics RF ${Math.min(3, kafka.nodes.length)}, min ISR ${kafka.nodes.length >= 3 ? 2 : 1}`;
}

/** Starts both servers (or stops on the first signal), then resolves with the exit code once stopped. */
export async function startInForeground(
  options: { kafka?: KafkaOptions; mongo?: MongoOptions; kafkaNodes?: number; log?: (line: string) => void },
  stopMore: (deadline: number) => Promise<void> = async () => {},
): Promise<{ infra?: Infra; foreground: Foreground }> {
  // Set once both answer; interrupted before that, the state file lists what this process has spawned.
  const started: { infra?: Infra } = {};
  const foreground = new Foreground(async () => {
    // One deadline for everything: a server that does not answer (stopped, or in back-to-back full GCs)
    // ignores SIGTERM, so each stop escalates to SIGKILL in time for the whole to end within 10 s.
    const deadline = Date.now() + STOP_BUDGET_MS;
    await stopMore(deadline);
    const timeoutMs = Math.max(MIN_GRACE_MS, deadline - Date.now());
    await (started.infra ? started.infra.stopAll(timeoutMs) : stopStarted({ timeoutMs }));
  }, options.log);
  started.infra = await ensureInfra({
    ...options,
    onUnexpectedExit: ({ name, code, signal, logFile }: UnexpectedExit) => {
      // A terminal Ctrl-C reaches the children too (same process group); that exit is expected.
      if (foreground.shuttingDown) return;
      console.error(
        `[infra] ${name} exited unexpectedly (${signal ?? `exit ${code}`}); last lines of ${rel(logFile)}:\n${logTail(logFile, 20)}`,
      );
      void foreground.shutdown(`${name} died`, 1);
    },
  });
  return { infra: foreground.shuttingDown ? undefined : started.infra, foreground };
}

export async function up(options: { kafka: KafkaOptions; mongo: MongoOptions; kafkaNodes?: number }): Promise<number> {
  const sizing = localStoreSizing(options.mongo.backend);
  const { infra, foreground } = await startInForeground({
    ...options,
    mongo: { heapMb: sizing.heapMb, ...options.mongo },
  });
  if (!infra) return foreground.done;
  const { kafka, mongo } = infra;
  const mongoKind =
    mongo.kind === 'mongo-java-server'
      ? `mongo-java-server ${componentVersion('mongo')}, ${mongo.backend} backend, reports MongoDB ${mongo.serverVersion} / wire ${mongo.maxWireVersion}`
      : mongo.kind === 'mongod'
        ? `mongod ${mongo.serverVersion}`
        : `external, MongoDB ${mongo.serverVersion ?? '?'}`;
  console.log(
    [
      '',
      `  Kafka    ${kafka.brokers}  (${describeKafka(kafka)})`,
      `  MongoDB  ${redact(mongo.uri)}  (${mongoKind}${mongo.pid ? `, pid ${mongo.pid}` : ''})`,
      '',
      ...(startedStandInCapacity(mongo, sizing) !== undefined
        ? [
            `  The stand-in ${describeCapacity(sizing)}.`,
            '',
            `  export KAFKA_BROKERS=${kafka.brokers} MONGODB_URI=${mongo.uri} MONGODB_CAPACITY_DOCS=${sizing.capacityDocs}`,
          ]
        : [`  export KAFKA_BROKERS=${kafka.brokers} MONGODB_URI=${mongo.uri}`]),
      '',
      infra.startedByUs.length
        ? `  Ctrl-C stops ${infra.startedByUs.join(' and ')}; logs in ${rel(LOG_DIR)}/`
        : '  nothing was started here; Ctrl-C just exits',
      '',
    ].join('\n'),
  );
  return foreground.done;
}
