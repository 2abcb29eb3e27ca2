// `npm run stack`: the whole pipeline on this machine. Starts (or reuses) Kafka and the MongoDB server,
// runs Funnel (role all, or api + worker with --split), prints where everything is, and stops all of it
// on Ctrl-C. Expects a build in dist/ (npm run stack builds first).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { REPO_ROOT, ensureInfra } from './infra.mjs';

const { values: args } = parseArgs({
  options: {
    split: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (args.help) {
  console.log(
    'usage: npm run stack [-- --split]\n  --split  run the api and the worker as two processes (ports PORT and WORKER_PORT)',
  );
  process.exit(0);
}

const log = (line) => console.log(`[stack] ${line}`);
const main = path.join(REPO_ROOT, 'dist/apps/funnel/src/main.js');
const port = Number(process.env.PORT ?? 3000);
const workerPort = Number(process.env.WORKER_PORT ?? 3001);

const infra = await ensureInfra({ log });
const env = { ...process.env, KAFKA_BROKERS: infra.kafka.brokers, MONGODB_URI: infra.mongo.uri };
const roles = args.split ? ['worker', 'api'] : ['all'];
const children = roles.map((role) => {
  // The worker's old-space cap (README, Worker memory); the api and the one-process role keep V8's default.
  const heap = role === 'worker' ? { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --max-old-space-size=192`.trim() } : {};
  const child = spawn(process.execPath, [main], { env: { ...env, ...heap, FUNNEL_ROLE: role }, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`funnel ${role} exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  return child;
});

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  log('stopping Funnel, then Kafka and MongoDB…');
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
  await infra.stopAll();
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitReady(url) {
  for (let i = 0; i < 240 && !stopping; i++) {
    try {
      if ((await fetch(url)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

const api = `http://127.0.0.1:${port}`;
const ready = await waitReady(`${api}/health/ready`);
const lines = [
  '',
  `Funnel is ${ready ? 'up' : 'started but not ready yet (see the log above)'}:`,
  `  API            ${api}/v1/points (POST)   ${api}/v1/aggregates (GET)`,
  `  Swagger UI     ${api}/docs   (OpenAPI JSON: ${api}/docs-json)`,
  `  Health         ${api}/health/live   ${api}/health/ready`,
  ...(args.split
    ? [`  Worker health  http://127.0.0.1:${workerPort}/health/live   http://127.0.0.1:${workerPort}/health/ready`]
    : []),
  `  Kafka          ${infra.kafka.brokers}`,
  `  MongoDB        ${infra.mongo.uri}  (${infra.mongo.kind})`,
  '',
  'Try:',
  `  curl -s -XPOST ${api}/v1/points -H 'content-type: application/json' -d '{"sensorId":"boiler-7","metric":"temperature","value":21.5}'`,
  `  curl -s '${api}/v1/aggregates?sensorId=boiler-7&metric=temperature&from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&window=day'`,
  '',
  'Ctrl-C stops everything.',
];
console.log(lines.join('\n'));
