// `devstack stack` (npm run stack): Kafka, MongoDB and Funnel from dist/, the URLs printed, all stopped on Ctrl-C.
import path from 'node:path';

import { loadConfig } from '@funnel/config';
import {
  pollUntil,
  REPO_ROOT,
  startProcess,
  type KafkaOptions,
  type MongoOptions,
  type RunningProcess,
} from '@funnel/dev-infra';

import { localAdminToken } from './admin-token.js';
import { describeCapacity, localStoreSizing, startInForeground, startedStandInCapacity } from './up.js';

const MAIN = path.join(REPO_ROOT, 'dist/apps/funnel/src/main.js');
/** Funnel's own shutdown bound under devstack, so that it ends before the stop budget SIGKILLs it. */
const FUNNEL_SHUTDOWN_MS = 4_000;
/** Left for Kafka and MongoDB after Funnel has stopped. */
const INFRA_STOP_MS = 3_500;

export async function stack({
  split,
  kafka = {},
  mongo = {},
  kafkaNodes = 1,
}: {
  split: boolean;
  kafka?: KafkaOptions;
  mongo?: MongoOptions;
  kafkaNodes?: number;
}): Promise<number> {
  const log = (line: string) => console.log(`[stack] ${line}`);
  // The user's settings, validated before anything starts (a bad value fails here, naming it); passed on to
  // Funnel's processes as they are, with what the stack itself decides set over them.
  const config = loadConfig();
  const port = config.PORT;
  const workerPort = config.WORKER_PORT;
  const children: RunningProcess[] = [];
  const sizing = localStoreSizing(mongo.backend);
  const options = { log, kafka, kafkaNodes, mongo: { heapMb: sizing.heapMb, ...mongo } };
  const { infra, foreground } = await startInForeground(options, async (deadline) => {
    log('stopping Funnel, then Kafka and MongoDB…');
    // Funnel first (it commits through Kafka); SIGKILLed in time to leave the servers their share.
    const timeoutMs = Math.max(1_000, deadline - INFRA_STOP_MS - Date.now());
    await Promise.all(children.map((child) => child.stop(timeoutMs)));
  });
  if (!infra) return foreground.done;

  // The stand-in's capacity only when this run started it; a user's own MONGODB_CAPACITY_DOCS (> 0) wins.
  const capacity = config.MONGODB_CAPACITY_DOCS > 0 ? undefined : startedStandInCapacity(infra.mongo, sizing);
  const admin = localAdminToken(config.FUNNEL_ADMIN_TOKEN);
  const env = {
    FUNNEL_ADMIN_TOKEN: admin.token,
    KAFKA_BROKERS: infra.kafka.brokers,
    MONGODB_URI: infra.mongo.uri,
    // At most the stack's own bound: a longer one would be cut short by the stop budget's SIGKILL anyway.
    SHUTDOWN_TIMEOUT_MS: String(Math.min(config.SHUTDOWN_TIMEOUT_MS, FUNNEL_SHUTDOWN_MS)),
    ...(capacity !== undefined ? { MONGODB_CAPACITY_DOCS: String(capacity) } : {}),
  };
  for (const role of split ? ['worker', 'api'] : ['all']) {
    // The worker's old-space cap (docs/operations.md, worker memory); the api and the one-process role keep V8's default.
    const heap = role === 'worker' ? ['--max-old-space-size=192'] : [];
    const child = startProcess(process.execPath, {
      args: [...heap, MAIN],
      // The console's Pipeline page (GET /v1/pipeline on the api) reads the split worker's metrics too.
      extraEnv: {
        ...env,
        ...(role === 'api' && !config.PIPELINE_WORKER_URLS
          ? { PIPELINE_WORKER_URLS: `http://127.0.0.1:${workerPort}` }
          : {}),
        FUNNEL_ROLE: role,
      },
      stdin: 'ignore',
      inherit: true,
    });
    void child.exited.then(({ code, signal }) => {
      if (foreground.shuttingDown) return;
      log(`funnel ${role} exited (${signal ?? code}); stopping the stack`);
      void foreground.shutdown(`funnel ${role} exited`, 1);
    });
    children.push(child);
  }

  const api = `http://127.0.0.1:${port}`;
  const ready = await pollUntil(
    'the api to be ready',
    async () => (await fetch(`${api}/health/ready`)).status === 200,
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      abortIf: () => foreground.shuttingDown && 'stopping',
    },
  ).then(
    () => true,
    () => false,
  );
  if (foreground.shuttingDown) return foreground.done;
  console.log(
    [
      '',
      `Funnel is ${ready ? 'up' : 'started but not ready yet (see the log above)'}:`,
      `  API            ${api}/v1/points (POST)   ${api}/v1/aggregates (GET)`,
      `  Console        ${api}/ui/`,
      `  Swagger UI     ${api}/docs   (OpenAPI JSON: ${api}/docs-json)`,
      `  Health         ${api}/health/live   ${api}/health/ready`,
      ...(split
        ? [`  Worker health  http://127.0.0.1:${workerPort}/health/live   http://127.0.0.1:${workerPort}/health/ready`]
        : []),
      `  Admin token    ${admin.token}   (from ${admin.source}; Swagger UI: Authorize)`,
      `  Kafka          ${infra.kafka.brokers}${infra.kafka.kind === 'kafka-cluster' ? `  (${infra.kafka.nodes.length} nodes)` : ''}`,
      `  MongoDB        ${infra.mongo.uri}  (${infra.mongo.kind})`,
      ...(capacity !== undefined ? [`  Local store    ${describeCapacity(sizing)}`] : []),
      '',
      'Try:',
      `  export FUNNEL_TOKEN=${admin.token}`,
      `  curl -s -XPOST ${api}/v1/points -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -d '{"sensorId":"boiler-7","metric":"temperature","value":21.5}'`,
      `  curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" '${api}/v1/aggregates?sensorId=boiler-7&metric=temperature&from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&window=day'`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
  return foreground.done;
}
