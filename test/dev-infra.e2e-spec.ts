// The devstack CLI and @funnel/dev-infra against real processes, for what no other spec exercises: a
// terminal's Ctrl-C stops `up` and `stack` and everything they started (within 10 s, even with a stand-in that
// does not answer), servers die with a SIGKILLed parent,
// and two processes starting the same servers at once share one of each. (Starts, restarts and kills of
// Kafka and MongoDB are exercised by the global setup and the fault suite.)
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import {
  freePort,
  isAlive,
  pollUntil,
  portAnswers,
  startProcess,
  STATE_FILE,
  type RunningProcess,
} from '@funnel/dev-infra';

const DEVSTACK = path.resolve('dist/apps/devstack/src/main.js');
const LIB = path.resolve('dist/libs/dev-infra/src/index.js');
// Away from 9092/27017 (the global setup's) and from the fault suite's ports.
const UP = { kafka: 19092, mongo: 28017 };
const ORPHANS = { kafka: 19195, mongo: 28020 };
const CONCURRENT = { kafka: 19197, mongo: 28021 };
const OWN_STACK = { kafka: 19199, mongo: 28023 };

const recorded = (pids: number[]) => {
  const entries = fs.existsSync(STATE_FILE)
    ? (JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as { entries: Array<{ pid: number; owner: number }> }).entries
    : [];
  return entries.filter((e) => pids.includes(e.pid));
};

/** A node process running `script` (ESM) that imports the built lib as `infra`. */
const nodeScript = (script: string, env: NodeJS.ProcessEnv = process.env): RunningProcess =>
  startProcess(process.execPath, {
    args: ['--input-type=module', '-e', `import * as infra from ${JSON.stringify(LIB)};\n${script}`],
    env,
  });

/**
 * stopStarted() as another process calls it. Not from here: under --runInBand this process is the global
 * setup's, so its own call would stop the servers the global setup started for the other specs.
 */
async function stopStartedElsewhere(): Promise<Array<{ pid: number; was: string }>> {
  const child = nodeScript(`console.log('RESULT ' + JSON.stringify(await infra.stopStarted({ log: false })));`);
  await child.exited;
  return JSON.parse(/RESULT (.*)/.exec(child.output())?.[1] ?? 'null') as Array<{ pid: number; was: string }>;
}

const printed = (child: RunningProcess, what: RegExp, timeoutMs = 180_000) =>
  pollUntil(`${what} in the output`, () => what.exec(child.output()), {
    timeoutMs,
    abortIf: () => !child.running && `it exited:\n${child.output()}`,
  });

describe('devstack up', () => {
  it('prints both addresses, and Ctrl-C (SIGINT to its process group) stops all it started', async () => {
    const env = { ...process.env, KAFKA_BROKERS: '', MONGODB_URI: '' };
    const up = startProcess(process.execPath, {
      args: [DEVSTACK, 'up', '--kafka-port', String(UP.kafka), '--mongo-port', String(UP.mongo)],
      env,
      detached: true,
    });
    try {
      await printed(up, /export KAFKA_BROKERS=/);
      expect(up.output()).toMatch(/mongo-java-server 1\.47\.0, memory backend, reports MongoDB \S+ \/ wire 8/);
      const pids = [...new Set([...up.output().matchAll(/pid (\d+)/g)].map((m) => Number(m[1])))];
      expect(pids).toHaveLength(2);
      up.signalGroup('SIGINT');
      expect(await up.exited).toEqual({ code: 0, signal: null });
      expect(pids.filter(isAlive)).toEqual([]);
      for (const port of [UP.kafka, UP.kafka + 1, UP.mongo])
        expect({ port, open: await portAnswers(port) }).toEqual({ port, open: false });
      expect(recorded(pids)).toEqual([]);
    } finally {
      await up.stop(10_000);
    }
  }, 240_000);
});

describe('devstack stack', () => {
  it('runs Funnel on the reused servers, prints its URLs, and Ctrl-C stops it within seconds', async () => {
    const port = await freePort();
    const stack = startProcess(process.execPath, {
      args: [DEVSTACK, 'stack'],
      env: { ...process.env, PORT: String(port), WORKER_PORT: String(await freePort()), LOG_LEVEL: 'warn' },
      detached: true,
    });
    try {
      await printed(stack, /Funnel is up/, 120_000);
      expect(stack.output()).toContain(`http://127.0.0.1:${port}/v1/points (POST)`);
      const live = await fetch(`http://127.0.0.1:${port}/health/live`);
      expect(live.status).toBe(200);
      // Secured, and the admin token it printed opens it.
      const token = /Admin token +(\S+)/.exec(stack.output())?.[1];
      const post = (headers: Record<string, string>) =>
        fetch(`http://127.0.0.1:${port}/v1/points`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ sensorId: 'stack', metric: 'm', value: 1 }),
        });
      expect((await post({})).status).toBe(401);
      expect((await post({ authorization: `Bearer ${token}` })).status).toBe(202);
      const asked = Date.now();
      stack.signalGroup('SIGINT');
      expect(await stack.exited).toEqual({ code: 0, signal: null });
      // Funnel's own graceful shutdown bound (SHUTDOWN_TIMEOUT_MS) is the most it may take.
      expect(Date.now() - asked).toBeLessThan(30_000);
      expect(await portAnswers(port)).toBe(false);
      // The servers it reused (the global setup's) are left running.
      expect(stack.output()).toContain('reusing');
    } finally {
      await stack.stop(10_000);
    }
  }, 180_000);
});

describe('devstack stack with servers of its own', () => {
  it('prints what the local store holds, and Ctrl-C stops everything within 10 s with the stand-in SIGSTOPped', async () => {
    const port = await freePort();
    const stack = startProcess(process.execPath, {
      args: [DEVSTACK, 'stack', '--kafka-port', String(OWN_STACK.kafka), '--mongo-port', String(OWN_STACK.mongo)],
      env: {
        ...process.env,
        KAFKA_BROKERS: '',
        MONGODB_URI: '',
        MONGODB_CAPACITY_DOCS: '',
        PORT: String(port),
        WORKER_PORT: String(await freePort()),
        LOG_LEVEL: 'warn',
      },
      detached: true,
    });
    let standIn: number | undefined;
    try {
      await printed(stack, /Funnel is up/, 180_000);
      expect(stack.output()).toMatch(
        /Local store +holds up to [\d,]+ documents \(readings and rollups\) in a [\d.]+ GB heap/,
      );
      standIn = Number(/MongoDB started on \S+ .*?\(pid (\d+)/.exec(stack.output())?.[1]);
      const kafka = Number(/Kafka \S+ started on \S+ .*?\(pid (\d+)/.exec(stack.output())?.[1]);
      expect([standIn, kafka].every(isAlive)).toBe(true);
      // A stand-in that does not answer, as in back-to-back full collections: only SIGKILL ends it.
      process.kill(standIn, 'SIGSTOP');
      stack.signalGroup('SIGINT');
      const ports = [port, OWN_STACK.kafka, OWN_STACK.kafka + 1, OWN_STACK.mongo];
      await pollUntil(
        'devstack, Funnel, Kafka and the stand-in to be gone',
        async () =>
          !stack.running &&
          ![standIn!, kafka].some(isAlive) &&
          (await Promise.all(ports.map((p) => portAnswers(p)))).every((open) => !open),
        { timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(await stack.exited).toEqual({ code: 0, signal: null });
      expect(stack.output()).toMatch(/ignored SIGTERM .*; sending SIGKILL/);
      expect(recorded([standIn, kafka])).toEqual([]);
    } finally {
      if (standIn && isAlive(standIn)) process.kill(standIn, 'SIGCONT');
      await stack.stop(10_000);
    }
  }, 240_000);
});

describe('@funnel/dev-infra supervision', () => {
  it('servers die with a SIGKILLed parent (stdin EOF), and stopStarted() then clears their entries', async () => {
    const parent = nodeScript(`
      const k = await infra.startKafka({ port: ${ORPHANS.kafka}, controllerPort: ${ORPHANS.kafka + 1}, log: false });
      const m = await infra.startMongo({ port: ${ORPHANS.mongo}, backend: 'h2', uri: null, log: false });
      console.log('PIDS', k.pid, m.pid);
      setInterval(() => {}, 1000);
    `);
    try {
      const [, kpid, mpid] = (await printed(parent, /PIDS (\d+) (\d+)/)).map(Number);
      const pids = [kpid!, mpid!];
      expect(recorded(pids).map((e) => e.owner)).toEqual([parent.pid, parent.pid]);
      // A live owner's servers are not ours to stop.
      expect((await stopStartedElsewhere()).filter((e) => pids.includes(e.pid))).toEqual([]);
      parent.kill('SIGKILL');
      await pollUntil('both servers to exit', () => pids.every((pid) => !isAlive(pid)), { timeoutMs: 30_000 });
      const cleared = (await stopStartedElsewhere()).filter((e) => pids.includes(e.pid));
      expect(cleared.map((e) => e.was)).toEqual(['gone', 'gone']);
      expect(recorded(pids)).toEqual([]);
    } finally {
      await parent.stop(10_000);
    }
  }, 240_000);

  it('two processes that ensureInfra the same addresses at once start one of each server', async () => {
    const env = {
      ...process.env,
      KAFKA_BROKERS: `127.0.0.1:${CONCURRENT.kafka}`,
      MONGODB_URI: `mongodb://127.0.0.1:${CONCURRENT.mongo}/funnel`,
    };
    const script = `
      const env = await infra.ensureInfra({ log: false });
      console.log('STARTED ' + JSON.stringify(env.startedByUs));
      const keepAlive = setInterval(() => {}, 1000);
      await new Promise((r) => process.once('SIGTERM', r));
      clearInterval(keepAlive);
      await env.stopAll();
      process.exit(0);
    `;
    const runs = [nodeScript(script, env), nodeScript(script, env)];
    try {
      const started = await Promise.all(runs.map(async (r) => JSON.parse((await printed(r, /STARTED (.*)/))[1]!)));
      expect(started.flat().sort()).toEqual(['kafka', 'mongo']);
    } finally {
      await Promise.all(runs.map((r) => r.stop(30_000)));
    }
  }, 240_000);
});
