// `devstack up`: start (or reuse) Kafka and MongoDB, print their addresses, stop them on Ctrl-C.
import {
  componentVersion,
  ensureInfra,
  LOG_DIR,
  logTail,
  redact,
  rel,
  stopStarted,
  type Infra,
  type KafkaOptions,
  type MongoOptions,
  type UnexpectedExit,
} from '@funnel/dev-infra';

import { Foreground } from './foreground.js';

/** Starts both servers (or stops on the first signal), then resolves with the exit code once stopped. */
export async function startInForeground(
  options: { kafka?: KafkaOptions; mongo?: MongoOptions; log?: (line: string) => void },
  stopMore: () => Promise<void> = async () => {},
): Promise<{ infra?: Infra; foreground: Foreground }> {
  // Set once both answer; interrupted before that, the state file lists what this process has spawned.
  const started: { infra?: Infra } = {};
  const foreground = new Foreground(async () => {
    await stopMore();
    await (started.infra ? started.infra.stopAll() : stopStarted());
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

export async function up(options: { kafka: KafkaOptions; mongo: MongoOptions }): Promise<number> {
  const { infra, foreground } = await startInForeground(options);
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
      `  Kafka    ${kafka.brokers}  (${kafka.kind === 'external' ? 'external: reused, not stopped on exit' : `Kafka ${kafka.version}, pid ${kafka.pid}`})`,
      `  MongoDB  ${redact(mongo.uri)}  (${mongoKind}${mongo.pid ? `, pid ${mongo.pid}` : ''})`,
      '',
      `  export KAFKA_BROKERS=${kafka.brokers} MONGODB_URI=${mongo.uri}`,
      '',
      infra.startedByUs.length
        ? `  Ctrl-C stops ${infra.startedByUs.join(' and ')}; logs in ${rel(LOG_DIR)}/`
        : '  nothing was started here; Ctrl-C just exits',
      '',
    ].join('\n'),
  );
  return foreground.done;
}
