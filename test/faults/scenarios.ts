// The fault scenarios: each injects one fault under load and states what must hold.
import { randomBytes } from 'node:crypto';

import { Kafka, logLevel } from 'kafkajs';

import { becomesTrue, Scrape, sleep } from '@funnel/dev-infra';

import { ADMIN_AUTH } from '../support/env.js';
import { tierTotals } from '../support/mongo.js';
import { CLUSTER_SCENARIOS } from './cluster-scenarios.js';
import { graceful, type FunnelNode } from './funnel-node.js';
import type { Profile, ScenarioResult, ScenarioRun } from './harness.js';
import { OFFSET_COMMIT, parseOffsetCommit, PRODUCE, type OffsetCommitRequest } from './kafka-frames.js';
import { missing, readStored } from './reconcile.js';
import { TcpProxy } from './tcp-proxy.js';

export interface ScenarioDef {
  key: string;
  name: string;
  /** How the fault is injected, for the report. */
  fault: string;
  /** Readings of the scenario when not the profile's default. */
  readings?: (profile: Profile) => number;
  /** Runs against the suite's 3-node cluster (cluster-scenarios.ts) instead of the single broker. */
  cluster?: boolean;
  run(run: ScenarioRun): Promise<ScenarioResult>;
}

/** Polls `probe` until true; false after `timeoutMs` (the caller turns that into a check). */
const until = (probe: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 200) =>
  becomesTrue('a scenario condition', probe, { timeoutMs, intervalMs });

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Worker readiness until it answers 200, across restarts of the process; ms taken, or undefined. */
async function readyAgain(worker: FunnelNode, timeoutMs: number): Promise<number | undefined> {
  const started = Date.now();
  const ok = await until(async () => worker.running && (await worker.readyStatus()) === 200, timeoutMs, 250);
  return ok ? Date.now() - started : undefined;
}

// 1 ------------------------------------------------------------------------------------------------------
const workerKillFullBuffer: ScenarioDef = {
  key: '1',
  name: 'worker-sigkill-full-buffer',
  fault:
    'worker runs with FLUSH_INTERVAL_MS=600000 and FLUSH_MAX_POINTS above the load, so it buffers everything and ' +
    'writes nothing; SIGKILL while the api keeps ingesting; restarted with the normal flush interval',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    const worker = await run.startWorker({ FLUSH_INTERVAL_MS: '600000', FLUSH_MAX_POINTS: '1000000' });
    const n = run.dataset.readings.length;
    const split = Math.floor(n * 0.6);
    const first = run.load(api, { to: split, durationMs: run.profile.loadMs / 2 });
    await first.done;
    // Everything acknowledged is in the worker's buffer before the kill (a condition, not a pause).
    const acked = run.ledger.count('acked');
    const buffered = await until(
      async () => (await Scrape.of(`${worker.url}/metrics`)).sum('funnel_readings_consumed_total') >= acked,
      30_000,
    );
    run.check('worker consumed every acked reading before the kill', buffered);
    const stored = await run.storedCount();
    run.check('buffer unflushed at the kill (nothing stored yet)', stored === 0, `${stored} documents already stored`);
    const second = run.load(api, { from: split, durationMs: run.profile.loadMs / 2 });
    await sleep(300);
    run.event(`SIGKILL worker-1 holding ${run.ledger.count('acked')} acked, unwritten readings`);
    await worker.kill();
    await sleep(1000);
    await run.restart(worker, { FLUSH_INTERVAL_MS: String(run.profile.flushMs), FLUSH_MAX_POINTS: '1000' });
    await second.done;
    return run.finish(api);
  },
};

// 2 ------------------------------------------------------------------------------------------------------
const workerKillBeforeCommit: ScenarioDef = {
  key: '2',
  name: 'worker-sigkill-after-write-before-commit',
  fault:
    'worker reaches Kafka only through a gate proxy that parses Kafka request frames; mid-load the gate parks the ' +
    "worker's next OffsetCommit (sent only after a write) and the worker is SIGKILLed at that instant; restarted",
  async run(run) {
    await run.createTopic();
    const gate = new TcpProxy('kafka-gate', run.infra.gatedListener, run.infra.gatePort, true);
    await gate.start();
    try {
      const api = await run.startApi();
      const worker = await run.startWorker({ KAFKA_BROKERS: `127.0.0.1:${gate.port}` });
      const load = run.load(api);
      await load.reach(0.35);
      run.check('worker writes before the fault', await until(async () => (await run.storedCount()) > 0, 30_000));

      let held: OffsetCommitRequest | undefined;
      const caught = new Promise<boolean>((resolve) => {
        gate.once('held', (_key: number, frame: Buffer) => {
          // Kill first, in the same tick: the commit must never get a chance to reach the broker.
          void worker.kill();
          held = parseOffsetCommit(frame);
          resolve(true);
        });
        setTimeout(() => resolve(false), 30_000);
      });
      const storedAtHold = await run.storedCount();
      gate.hold([OFFSET_COMMIT]);
      run.event('gate holds the next OffsetCommit of worker-1');
      const ok = await caught;
      run.check('worker sent an OffsetCommit (after a write) that the gate held', ok);
      if (!ok) throw new Error('no OffsetCommit from the worker within 30 s');
      await until(() => !worker.running, 10_000);
      const storedAtKill = await run.storedCount();
      run.event(`SIGKILL worker-1 while its commit was parked (stored ${storedAtHold} -> ${storedAtKill})`);
      gate.reset();

      const after = await run.offsets();
      if (held && after) {
        const behind = held.offsets.filter(
          (o) => (after.perPartition.find((p) => p.partition === o.partition)?.committed ?? 0) < o.offset,
        );
        run.note(
          `held commit (OffsetCommit v${held.apiVersion}) asked for ${held.offsets.map((o) => `p${o.partition}->${o.offset}`).join(', ')}; ` +
            `broker kept ${after.perPartition.map((p) => `p${p.partition}->${p.committed}`).join(', ')}`,
        );
        run.check(
          'the written batch stayed uncommitted (it will be replayed)',
          behind.length > 0,
          'committed offsets already cover the held commit',
        );
      } else {
        run.note(
          'held OffsetCommit could not be decoded; committed offsets after the kill: ' +
            JSON.stringify(after?.perPartition),
        );
      }
      await sleep(500);
      await run.restart(worker, { KAFKA_BROKERS: run.infra.brokers });
      await load.done;
      return await run.finish(api);
    } finally {
      await gate.close();
    }
  },
};

// 3 ------------------------------------------------------------------------------------------------------
const workerSigterm: ScenarioDef = {
  key: '3',
  name: 'worker-sigterm-under-load',
  // The profile's readings for the worker phase, then a burst of eight ~1000-reading requests for the api's.
  readings: (profile) => profile.readings + 8000,
  fault:
    'worker runs with FLUSH_INTERVAL_MS=600000 and FLUSH_MAX_POINTS above the load, so everything it consumed is ' +
    'still in its buffer, and gets SIGTERM mid-load; the suite times the exit, checks that the buffer was written, ' +
    'then restarts it with the normal flush interval; later the api gets SIGTERM under load too, and is restarted',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    // Only the shutdown flush can write anything: a stop that drops the buffer shows as unwritten readings.
    const worker = await run.startWorker({ FLUSH_INTERVAL_MS: '600000', FLUSH_MAX_POINTS: '1000000' });
    const split = run.dataset.readings.length - 8000;
    const load = run.load(api, { to: split });
    await load.reach(0.5);
    const sigtermAt = Date.now();
    run.event('SIGTERM worker-1 under load');
    const exit = await worker.terminate(60_000);
    run.event(`worker-1 exited (${exit?.signal ?? `code ${exit?.code}`}) ${secs(exit?.ms ?? 0)} after SIGTERM`);
    run.check('graceful exit (by itself, no SIGKILL needed)', graceful(exit), JSON.stringify(exit));
    // SHUTDOWN_TIMEOUT_MS defaults to 30 s: the bound the app promises.
    run.check('exit within the shutdown bound (30 s)', (exit?.ms ?? Infinity) <= 30_000, `${exit?.ms} ms`);
    // Readings acked 1.5 s before the SIGTERM were in the worker's buffer (the consumer fetches within
    // milliseconds): the shutdown flush must have written them, rather than leave them to a replay.
    const docs = await readStored(run.infra.client, run.db);
    const unflushed = missing(run.ledger, docs, (seq) => {
      const at = run.ledger.ackedAt[seq];
      return at > 0 && at < sigtermAt - 1500;
    });
    const offsets = await run.offsets();
    run.note(`at exit: ${docs.length} stored, group lag ${offsets?.lag} records`);
    run.check(
      'shutdown flushed its buffer: readings acked >1.5 s before SIGTERM are stored at exit',
      unflushed === 0 && docs.length > 0,
      `${unflushed} not stored; group lag at exit ${offsets?.lag} records`,
    );
    await sleep(1000);
    await run.restart(worker, { FLUSH_INTERVAL_MS: String(run.profile.flushMs), FLUSH_MAX_POINTS: '1000' });

    // The api's turn, under a burst of eight unpaced clients with large requests, so that several are in
    // the api (for 50 ms at least) when SIGTERM arrives.
    const burst = run.load(api, { from: split, batch: 1000, concurrency: 8, durationMs: 0, giveUpMs: 120_000 });
    await until(() => burst.inFlight >= 4 && burst.oldestInFlightMs >= 50, 10_000, 1);
    const apiSigtermAt = Date.now();
    run.event(`SIGTERM api-1 with ${burst.inFlight + load.inFlight} requests in flight`);
    const apiExit = await api.terminate(60_000);
    run.event(`api-1 exited (${apiExit?.signal ?? `code ${apiExit?.code}`}) ${secs(apiExit?.ms ?? 0)} after SIGTERM`);
    run.check(
      'api exits gracefully within 30 s',
      graceful(apiExit) && (apiExit?.ms ?? Infinity) <= 30_000,
      JSON.stringify(apiExit),
    );
    // Which requests in flight at the signal got an answer is reported, not asserted: on a busy single-
    // threaded api a request can sit unread in a kept-alive socket for tens of ms, and a server that closes
    // idle connections resets it (the keep-alive race clients retry around). What is asserted is that
    // the exit is graceful and bounded, and (by the reconciliation) that no 2xx was for data not stored.
    const inFlight = run.ledger.attempts.filter((a) => a.sentAt <= apiSigtermAt && a.doneAt >= apiSigtermAt);
    run.check('requests were in flight at the api SIGTERM', inFlight.length > 0);
    const cut = inFlight.filter((a) => a.status === 0).map((a) => `${apiSigtermAt - a.sentAt} ms`);
    run.note(
      `at the api SIGTERM: ${inFlight.length} requests in flight, answered ${JSON.stringify(run.ledger.statusCounts((a) => inFlight.includes(a)))}` +
        (cut.length ? `; cut off after being in flight ${cut.join(', ')}` : ''),
    );
    await run.restart(api);
    await Promise.all([load.done, burst.done]);
    return run.finish(api);
  },
};

// 4 ------------------------------------------------------------------------------------------------------
const brokerRestart: ScenarioDef = {
  key: '4',
  name: 'broker-stop-restart',
  fault:
    'the Kafka broker is stopped (SIGTERM, controlled shutdown) mid-load for the outage time, then started again ' +
    'on the same data dir; the worker may recover or exit (then it is restarted, like a supervisor would)',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    const worker = await run.startWorker({}, { allowExit: true });
    const outageMs = run.profile.outageMs;
    const load = run.load(api, { durationMs: Math.max(run.profile.loadMs, outageMs + 10_000), giveUpMs: 120_000 });
    await load.reach(0.25);
    run.event('stopping Kafka');
    await run.infra.kafka.stop();
    const downAt = Date.now();
    run.event('Kafka is down');
    const workerStatuses: number[] = [];
    await until(
      async () => {
        workerStatuses.push(await worker.readyStatus());
        return Date.now() - downAt >= outageMs;
      },
      outageMs + 5000,
      500,
    );
    const upStart = Date.now();
    run.event('starting Kafka again');
    await run.infra.kafka.restart();
    const upAt = Date.now();
    run.event(`Kafka is up (${secs(upAt - downAt)} down)`);

    // Answers given while the broker process was gone. A 2xx among them is only possible for a request
    // that was sent (and acknowledged) before the broker stopped; one sent after cannot have had an ack.
    const isDown = (a: { doneAt: number }) => a.doneAt >= downAt && a.doneAt <= upStart;
    const during = run.ledger.attempts.filter(isDown);
    const counts = run.ledger.statusCounts(isDown);
    const ok2xx = during.filter((a) => a.status >= 200 && a.status < 300 && a.sentAt >= downAt);
    const not503 = during.filter((a) => a.status !== 503 && !(a.status >= 200 && a.status < 300 && a.sentAt < downAt));
    const noRetryAfter = during.filter((a) => a.status === 503 && !a.retryAfter);
    const times = during.map((a) => a.doneAt - a.sentAt).sort((a, b) => a - b);
    run.note(
      `answers while down: ${during.length} (${JSON.stringify(counts)}), time to answer median ${times[times.length >> 1] ?? '-'} ms, max ${times.at(-1) ?? '-'} ms`,
    );
    run.check(
      'no 2xx for a request sent while Kafka was down',
      ok2xx.length === 0,
      `${ok2xx.length} requests answered 2xx`,
    );
    run.check('the api answered requests while Kafka was down', during.length > 0);
    run.check(
      'every answer while Kafka was down was 503',
      not503.length === 0,
      not503
        .slice(0, 5)
        .map((a) => `req ${a.req}: ${a.status || a.error} after ${a.doneAt - a.sentAt} ms`)
        .join('; '),
    );
    run.check('every 503 carried Retry-After', noRetryAfter.length === 0, `${noRetryAfter.length} without`);
    run.note(`worker readiness while Kafka was down: ${JSON.stringify(tally(workerStatuses))}`);

    // A request sent after the broker stopped cannot be acknowledged while it is down (checked above), so its
    // 2xx proves the api took readings again once Kafka was back. The harness's "up" (upAt) is no landmark:
    // refused requests are retried, and on a busy machine they may all get through between the broker
    // accepting again and its readiness probe answering, leaving no request to send after upAt.
    const accepting = await until(
      () => run.ledger.attempts.some((a) => a.sentAt >= downAt && a.status >= 200 && a.status < 300),
      60_000,
    );
    run.check('api acknowledges again after Kafka is back', accepting);
    const readyMs = await readyAgain(worker, 120_000);
    const exits = worker.exits.filter((e) => !e.expected).length;
    run.event(
      `worker-1 ${readyMs === undefined ? 'NOT ready' : `ready ${secs(readyMs)} after Kafka came back`} (${exits ? `exited ${exits}x and was restarted` : 'recovered in process'})`,
    );
    run.check('worker consumes again after Kafka is back (recovered, or exited and restarted)', readyMs !== undefined);
    await load.done;
    return run.finish(api);
  },
};

// 5 ------------------------------------------------------------------------------------------------------
const mongoOutage: ScenarioDef = {
  key: '5',
  name: 'mongodb-stop-restart',
  fault:
    'the MongoDB server is stopped (SIGTERM; h2 backend keeps the data) mid-load for the outage time (many flush ' +
    'intervals), then started again on the same port; the worker is not restarted',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    const worker = await run.startWorker();
    const outageMs = run.profile.outageMs;
    const load = run.load(api, { durationMs: Math.max(run.profile.loadMs, outageMs + 10_000) });
    await load.reach(0.25);
    run.event('stopping MongoDB');
    await run.infra.mongo.stop();
    const downAt = Date.now();
    run.event('MongoDB is down');
    // A flush that was already past its write when the server went away may still commit: wait it out.
    await sleep(1500);
    const early = await run.offsets();
    const statuses: number[] = [];
    await until(
      async () => {
        statuses.push(await worker.readyStatus(1500));
        return Date.now() - downAt >= outageMs;
      },
      outageMs + 5000,
      250,
    );
    const late = await run.offsets();
    run.note(`worker readiness while MongoDB was down: ${JSON.stringify(tally(statuses))}`);
    run.check(
      'worker not ready while MongoDB is down',
      statuses.some((s) => s !== 200),
      JSON.stringify(tally(statuses)),
    );
    run.check(
      'nothing committed while MongoDB is down',
      !!early && !!late && early.committed === late.committed,
      `committed ${early?.committed} -> ${late?.committed} while the records produced went ${early?.end} -> ${late?.end}`,
    );
    run.event('starting MongoDB again');
    await run.infra.mongo.restart();
    const upAt = Date.now();
    run.event(`MongoDB is up (${secs(upAt - downAt)} down)`);
    const readyMs = await readyAgain(worker, 90_000);
    run.event(
      readyMs === undefined ? 'worker-1 NOT ready again' : `worker-1 ready ${secs(readyMs)} after MongoDB came back`,
    );
    run.check('worker ready again without a restart', readyMs !== undefined && worker.exits.length === 0);
    await load.done;
    return run.finish(api);
  },
};

// 6 ------------------------------------------------------------------------------------------------------
const rebalance: ScenarioDef = {
  key: '6',
  name: 'rebalance-join-and-leave',
  fault: 'a second worker joins the group mid-load, later the first one leaves (SIGTERM): two rebalances under load',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    const first = await run.startWorker();
    const load = run.load(api, { durationMs: Math.max(run.profile.loadMs, 16_000) });
    await load.reach(0.25);
    run.event('starting worker-2 (joins the group)');
    const second = await run.startWorker();
    const joined = await run.infra.admin((admin) => admin.describeGroups([run.group]));
    const members = joined.groups[0]?.members.length ?? 0;
    run.event(`worker-2 ready; group has ${members} members`);
    run.check('both workers share the partitions after the join', members === 2, `${members} members`);
    await load.reach(0.6);
    run.event('SIGTERM worker-1 (leaves the group)');
    const exit = await first.terminate(60_000);
    run.event(`worker-1 exited (${exit?.signal ?? `code ${exit?.code}`}) after ${secs(exit?.ms ?? 0)}`);
    run.check('leaving worker exits gracefully', graceful(exit), JSON.stringify(exit));
    await load.done;
    return run.finish(api, async () => {
      const group = await run.infra.admin((admin) => admin.describeGroups([run.group]));
      const members = group.groups[0]?.members.length ?? 0;
      run.note(`group at the end: ${members} member(s), state ${group.groups[0]?.state}`);
      run.check('worker-2 alone consumes at the end', members === 1 && second.running, `${members} members`);
    });
  },
};

// 7 ------------------------------------------------------------------------------------------------------

/** Records that break the api's contract `{v:1, receivedAt, points:[...]}`, each in its own way. */
function poisonValues(base: number): Array<{ label: string; value: Buffer | string | null; key?: string }> {
  const point = { id: 'poison.1', sensorId: 'poison-sensor', metric: 'temperature', value: 1, ts: base };
  return [
    { label: 'not JSON', value: 'this is not json' },
    { label: 'truncated JSON', value: '{"v":1,"receivedAt":17', key: 'k1' },
    { label: 'JSON number', value: '42' },
    { label: 'JSON array', value: '[1,2,3]' },
    { label: 'contract v2', value: JSON.stringify({ v: 2, receivedAt: base, points: [point] }) },
    { label: 'receivedAt not a number', value: JSON.stringify({ v: 1, receivedAt: 'yesterday', points: [point] }) },
    { label: 'no points', value: JSON.stringify({ v: 1, receivedAt: base, points: [] }) },
    { label: 'invalid id', value: JSON.stringify({ v: 1, receivedAt: base, points: [{ ...point, id: 'bad id!' }] }) },
    {
      label: 'value not a number',
      value: JSON.stringify({ v: 1, receivedAt: base, points: [{ ...point, value: 'hot' }] }),
    },
    {
      label: 'point without id',
      value: JSON.stringify({ v: 1, receivedAt: base, points: [{ ...point, id: undefined }] }),
    },
    { label: 'null value (tombstone)', value: null, key: 'k2' },
    { label: 'binary garbage', value: Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0x7b]), randomBytes(64)]) },
    { label: '300 KB of garbage', value: `{${'x'.repeat(300_000)}` },
  ];
}

interface DlqMessage {
  headers: Record<string, string>;
  value: string;
}

/** Every message of `<topic>.dlq`, read from the start by a throwaway consumer group, for up to `timeoutMs`. */
async function readDlq(run: ScenarioRun, want: number, timeoutMs: number): Promise<DlqMessage[]> {
  const kafka = new Kafka({ clientId: 'funnel-faults-dlq', brokers: [run.infra.brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `${run.group}-dlq-reader-${randomBytes(3).toString('hex')}` });
  const seen: DlqMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: `${run.topic}.dlq`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
        seen.push({ headers, value: message.value?.toString('utf8') ?? '' });
      },
    });
    await until(() => seen.length >= want, timeoutMs, 250);
    await sleep(1000); // anything extra (a good record dead-lettered) shows up too
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return seen;
}

/** A header whose name contains `word` (the spec names what they say, not their exact names). */
function header(headers: Record<string, string>, word: RegExp): string | undefined {
  const key = Object.keys(headers).find((k) => word.test(k));
  return key === undefined ? undefined : headers[key];
}

/** Objects anywhere in a JSON answer that carry a partition and an offset field. */
function listedPositions(json: unknown): Array<{ partition: string; offset: string; entry: Record<string, unknown> }> {
  const out: Array<{ partition: string; offset: string; entry: Record<string, unknown> }> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const entry = v as Record<string, unknown>;
    const pk = Object.keys(entry).find((k) => /partition/i.test(k) && typeof entry[k] !== 'object');
    const ok = Object.keys(entry).find((k) => /offset/i.test(k) && typeof entry[k] !== 'object');
    if (pk && ok) out.push({ partition: String(entry[pk]), offset: String(entry[ok]), entry });
    Object.values(entry).forEach(walk);
  };
  walk(json);
  return out;
}

const poison: ScenarioDef = {
  key: '7',
  name: 'poison-records',
  fault:
    'records that break the contract (not JSON, wrong version, invalid points, null, binary, 300 KB) are produced ' +
    'straight into every partition with kafkajs, in rounds between good api traffic',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker();
    const producer = new Kafka({
      clientId: 'funnel-faults-poison',
      brokers: [run.infra.brokers],
      logLevel: logLevel.NOTHING,
    }).producer();
    await producer.connect();
    const poisons: Array<{ label: string; partition: number; offset: string; value: string | null }> = [];
    const load = run.load(api);
    const rounds = run.profile.name === 'full' ? 3 : 2;
    try {
      for (let round = 0; round < rounds; round++) {
        await load.reach((round + 1) / (rounds + 1));
        const values = poisonValues(run.dataset.base + round);
        for (const [i, p] of values.entries()) {
          const partition = (i + round) % 3;
          const [meta] = await producer.send({
            topic: run.topic,
            acks: -1,
            messages: [{ partition, key: p.key ?? null, value: p.value }],
          });
          poisons.push({
            label: p.label,
            partition,
            offset: String(meta.baseOffset ?? meta.offset),
            value: p.value === null ? null : p.value.toString(),
          });
        }
        run.event(`produced ${values.length} poison records (round ${round + 1})`);
      }
    } finally {
      await producer.disconnect();
    }
    await load.done;
    return run.finish(api, async () => {
      // Committed to the end of every partition: no partition is stuck on a poison record.
      const offsets = await run.offsets();
      run.check(
        'no partition blocked behind a poison record (group committed every partition to its end)',
        offsets?.lag === 0,
        JSON.stringify(offsets?.perPartition),
      );
      let dlq: DlqMessage[] = [];
      try {
        dlq = await readDlq(run, poisons.length, 30_000);
      } catch (error) {
        run.check(`${run.topic}.dlq can be read`, false, (error as Error).message);
      }
      const key = (partition: unknown, offset: unknown) => `${partition}@${offset}`;
      const byPosition = new Map(
        dlq.map((m) => [key(header(m.headers, /partition/i), header(m.headers, /offset/i)), m] as const),
      );
      const absent = poisons.filter((p) => !byPosition.has(key(p.partition, p.offset)));
      run.check(
        `every poison record is in ${run.topic}.dlq with its source partition/offset`,
        absent.length === 0,
        `${absent.length}/${poisons.length} missing: ${absent.map((p) => `${p.label} ${key(p.partition, p.offset)}`).join(', ')}; ` +
          `dlq holds ${dlq.length}, first headers ${JSON.stringify(dlq[0]?.headers ?? null)}`,
      );
      const noReason = dlq.filter((m) => !header(m.headers, /reason/i));
      run.check(
        'every dead letter says why (reason header)',
        dlq.length > 0 && noReason.length === 0,
        `${noReason.length} without`,
      );
      const extra = dlq.length - poisons.filter((p) => byPosition.has(key(p.partition, p.offset))).length;
      run.check('no good record dead-lettered', extra === 0, `${extra} dead letters that are not poison records`);
      const reasons = new Set(dlq.map((m) => header(m.headers, /reason/i)));
      run.note(
        `${dlq.length} dead letters, ${reasons.size} distinct reasons, e.g. ${[...reasons].slice(0, 3).join(' | ')}`,
      );

      const res = await fetch(`${api.url}/v1/dlq`, { headers: ADMIN_AUTH, signal: AbortSignal.timeout(10_000) }).catch(
        (e: Error) => e,
      );
      if (res instanceof Error || res.status !== 200) {
        run.check(
          'GET /v1/dlq lists the dead letters',
          false,
          res instanceof Error ? res.message : `${res.status} ${await res.text()}`,
        );
        return;
      }
      const listed = listedPositions(await res.json());
      const listedKeys = new Set(listed.map((l) => key(l.partition, l.offset)));
      const unlisted = poisons.filter((p) => !listedKeys.has(key(p.partition, p.offset)));
      run.check(
        'GET /v1/dlq lists every poison record',
        unlisted.length === 0,
        `${unlisted.length}/${poisons.length} not listed; ${listed.length} entries with a partition and offset`,
      );
      await checkReplay(run, api, listed);
    });
  },
};

/** The parts of an OpenAPI document read to find the replay body's array property; any of them may be missing. */
interface OpenApiSchema {
  $ref?: string;
  type?: string;
  properties?: Record<string, OpenApiSchema>;
}
interface OpenApiDoc {
  paths?: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: OpenApiSchema }> } } }>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/**
 * POST /v1/dlq/replay with one listed dead letter: it must be published to the topic again. The request
 * body is not in the spec; the OpenAPI document names it (an array property, e.g. `ids`), else `ids`.
 */
async function checkReplay(
  run: ScenarioRun,
  api: FunnelNode,
  listed: Array<{ entry: Record<string, unknown> }>,
): Promise<void> {
  const entry = listed[0]?.entry;
  const id = entry?.id ?? entry?._id;
  if (id === undefined) {
    run.check('POST /v1/dlq/replay re-publishes a dead letter', false, 'no listed dead letter has an id/_id to replay');
    return;
  }
  let property = 'ids';
  try {
    const doc = (await (await fetch(`${api.url}/docs-json`)).json()) as OpenApiDoc;
    const op = doc.paths?.['/v1/dlq/replay']?.post;
    let schema = op?.requestBody?.content?.['application/json']?.schema;
    if (schema?.$ref) schema = doc.components?.schemas?.[String(schema.$ref).split('/').pop()!];
    const arrayProp = Object.entries(schema?.properties ?? {}).find(([, s]) => s.type === 'array');
    if (arrayProp) property = arrayProp[0];
  } catch {
    /* keep the default */
  }
  const before = await run.offsets();
  const res = await fetch(`${api.url}/v1/dlq/replay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
    body: JSON.stringify({ [property]: [id] }),
  });
  const text = await res.text();
  const republished = await until(async () => ((await run.offsets())?.end ?? 0) > (before?.end ?? Infinity), 10_000);
  run.check(
    'POST /v1/dlq/replay re-publishes a chosen dead letter to the topic',
    res.status >= 200 && res.status < 300 && republished,
    `POST {${property}:[${JSON.stringify(id)}]} -> ${res.status} ${text.slice(0, 200)}; topic end offsets ${before?.end} -> ${(await run.offsets())?.end}`,
  );
}

// 8 ------------------------------------------------------------------------------------------------------
const slowMongo: ScenarioDef = {
  key: '8',
  name: 'slow-mongodb-backpressure',
  readings: (profile) => profile.slowReadings,
  fault:
    "the worker's MongoDB connection goes through a TCP proxy adding 150 ms latency per chunk and 64 KiB/s per " +
    'direction while a large load arrives; the proxy is set back to full speed once the load is over',
  async run(run) {
    await run.createTopic();
    const proxy = new TcpProxy('mongo-slow', { host: '127.0.0.1', port: run.infra.ports.mongo });
    const proxyPort = await proxy.start();
    let monitor = true;
    try {
      const highWater = run.profile.highWater;
      const api = await run.startApi();
      const worker = await run.startWorker({
        MONGODB_URI: run.infra.mongoUri(run.db, proxyPort),
        BUFFER_HIGH_WATER: String(highWater),
        FLUSH_MAX_POINTS: String(Math.max(1, Math.floor(highWater / 4))),
      });
      await sleep(1000);
      const baseline = worker.sampleMemory();
      proxy.slow({ latencyMs: 150, bytesPerSecond: 64 * 1024 });
      run.event(`MongoDB link slowed down; worker RSS ${baseline?.rssMb.toFixed(0)} MiB`);
      const load = run.load(api, { batch: 250, durationMs: run.profile.loadMs });
      let peakLag = 0;
      let peakRss = 0;
      const watching = (async () => {
        while (monitor) {
          const mem = worker.sampleMemory();
          if (mem) peakRss = Math.max(peakRss, mem.rssMb);
          const offsets = await run.offsets();
          if (offsets) peakLag = Math.max(peakLag, offsets.lag);
          await sleep(500);
        }
      })();
      await load.done;
      await sleep(3000);
      monitor = false;
      await watching;
      proxy.slow({});
      run.event('MongoDB link back to full speed');

      const perRecord =
        run.ledger.count('acked') / Math.max(1, run.ledger.attempts.filter((a) => a.status === 202).length);
      const backlog = Math.round(peakLag * perRecord);
      const growth = worker.peakMb - (baseline?.rssMb ?? 0);
      // The budget: the buffer itself is small (high water x a few hundred bytes); the rest is kafkajs fetch
      // buffers and GC slack. An unbounded buffer would grow with the backlog instead.
      const budgetMb = 160;
      run.note(
        `peak backlog ${peakLag} records (~${backlog} readings, ${Math.round(backlog / highWater)}x BUFFER_HIGH_WATER ${highWater}); ` +
          `worker RSS ${baseline?.rssMb.toFixed(0)} MiB at start, peak ${worker.peakMb.toFixed(0)} MiB (VmHWM; sampled peak ${peakRss.toFixed(0)} MiB)`,
      );
      run.check(
        'backlog grew in Kafka (consumption slower than ingest)',
        backlog >= 3 * highWater,
        `~${backlog} readings`,
      );
      run.check(
        `worker memory bounded (peak RSS growth <= ${budgetMb} MiB)`,
        growth <= budgetMb,
        `+${growth.toFixed(0)} MiB`,
      );
      return await run.finish(api);
    } finally {
      monitor = false;
      await proxy.close();
    }
  },
};

// 9 ------------------------------------------------------------------------------------------------------
const apiKill: ScenarioDef = {
  key: '9',
  name: 'api-sigkill-mid-request',
  readings: (profile) => profile.readings * 2,
  fault:
    'a burst of large requests at high concurrency is started and the api is SIGKILLed once many are in flight; ' +
    'the clients retry with the same ids/Idempotency-Key until the restarted api answers',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    await run.startWorker();
    const n = run.dataset.readings.length;
    const split = Math.floor(n / 2);
    const paced = run.load(api, { to: split, giveUpMs: 120_000 });
    await paced.reach(0.5);
    // Twelve clients at once, no pacing: the api is busy with many requests when it dies.
    const burst = run.load(api, {
      from: split,
      batch: run.profile.batch * 2,
      concurrency: 12,
      durationMs: 0,
      giveUpMs: 120_000,
    });
    await until(() => burst.inFlight >= 6, 5000, 2);
    const inFlight = paced.inFlight + burst.inFlight;
    const killAt = Date.now();
    run.event(`SIGKILL api-1 with ${inFlight} requests in flight`);
    await api.kill();
    run.check('requests were in flight at the kill', inFlight > 0, `${inFlight}`);
    await sleep(1000);
    await run.restart(api);
    await Promise.all([paced.done, burst.done]);
    const cut = run.ledger.attempts.filter((a) => a.sentAt < killAt && a.doneAt >= killAt && a.status === 0).length;
    run.note(`${cut} requests were cut off by the kill and retried`);
    return run.finish(api);
  },
};

// 10 -----------------------------------------------------------------------------------------------------
/** How long a dropped Produce answer leaves the connection up: many flush intervals, well under requestTimeout. */
const ACK_LOST_HOLD_MS = 3000;

const producerAckLost: ScenarioDef = {
  key: '10',
  name: 'producer-ack-lost',
  fault:
    'the api reaches Kafka only through a gate proxy; several times mid-load the broker writes a Produce request ' +
    `but the gate drops its answer and cuts the connection ${ACK_LOST_HOLD_MS / 1000} s later, so kafkajs sends the ` +
    'same batch again; the requests carry api-made ids and no Idempotency-Key (nothing the worker could check a ' +
    'second copy against), and the first copy is flushed and committed before the retry, so a copy would land in ' +
    'another flush',
  async run(run) {
    await run.createTopic();
    const gate = new TcpProxy('kafka-gate', run.infra.gatedListener, run.infra.gatePort, true, true);
    await gate.start();
    try {
      const api = await run.startApi({ KAFKA_BROKERS: `127.0.0.1:${gate.port}` });
      await run.startWorker();
      const drops = run.profile.name === 'full' ? 4 : 3;
      // One attempt per request: a client retry of a request without ids or key may store a copy by design;
      // only the producer's own retry is under test. Each lost answer holds every produce call for the hold
      // (the idempotent producer sends one call at a time), so the load is spread over that much longer: there
      // are still Produce requests to drop after the last hold.
      const load = run.load(api, {
        kinds: ['none'],
        maxAttempts: 1,
        durationMs: run.profile.loadMs + drops * (ACK_LOST_HOLD_MS + 1000),
      });
      let dropped = 0;
      for (let i = 0; i < drops; i++) {
        await load.reach((i + 1) / (drops + 1));
        const seen = new Promise<boolean>((resolve) => {
          gate.once('answer-dropped', () => resolve(true));
          setTimeout(() => resolve(false), 15_000);
        });
        gate.dropAnswer([PRODUCE], ACK_LOST_HOLD_MS);
        if (await seen) {
          dropped++;
          run.event(
            `gate dropped the answer to a Produce request (${dropped}/${drops}); cut in ${ACK_LOST_HOLD_MS} ms`,
          );
          await sleep(ACK_LOST_HOLD_MS + 500);
        }
      }
      await load.done;
      run.check(`the answers to ${drops} Produce requests were lost`, dropped === drops, `${dropped} dropped`);
      // A request that waited out a dropped answer and got 202 was acknowledged by kafkajs's resend of the
      // batch the broker had already written: the case under test. (Others may get 503 if the resend fails.)
      const resent = run.ledger.attempts.filter((a) => a.status === 202 && a.doneAt - a.sentAt >= ACK_LOST_HOLD_MS);
      run.note(`answers: ${JSON.stringify(run.ledger.statusCounts())}; ${resent.length} 202s after a lost answer`);
      run.check('some requests were acknowledged by the resend of a batch whose answer was lost', resent.length > 0);
      return await run.finish(api);
    } finally {
      await gate.close();
    }
  },
};

function tally(values: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v === 0 ? 'no answer' : String(v)] = (out[v === 0 ? 'no answer' : String(v)] ?? 0) + 1;
  return out;
}

// t ------------------------------------------------------------------------------------------------------
const compaction: ScenarioDef = {
  key: 't',
  name: 'worker-sigkill-mid-compaction',
  fault:
    'worker-1 runs with TIERS_HALT_AT=compaction-merged (its rollup upkeep stops right after a minute write, before ' +
    'marking the hour and deleting the slices) and is SIGKILLed there under load; restarted with ' +
    'TIERS_HALT_AT=rollup-written and SIGKILLed after an hour write; restarted normally',
  async run(run) {
    await run.createTopic();
    const api = await run.startApi();
    const worker = await run.startWorker({ TIERS_HALT_AT: 'compaction-merged', COMPACTION_INTERVAL_MS: '200' });
    const load = run.load(api);
    for (const point of ['compaction-merged', 'rollup-written'] as const) {
      const halted = await until(() => worker.grep(new RegExp(`halt point ${point} reached`)).length > 0, 60_000, 250);
      run.check(`the worker halted at ${point}`, halted);
      run.event(`SIGKILL worker-1 halted at ${point}`);
      await worker.kill();
      await run.restart(worker, {
        TIERS_HALT_AT: point === 'compaction-merged' ? 'rollup-written' : 'none',
        COMPACTION_INTERVAL_MS: '200',
      });
    }
    await load.done;
    return run.finish(api, async (rec) => {
      const db = run.infra.client.db(run.db);
      let totals = await tierTotals(db);
      const settled = await until(
        async () => {
          totals = await tierTotals(db);
          return totals.slices === 0 && totals.marks === 0 && totals.minuteN === rec.stored;
        },
        60_000,
        500,
      );
      run.check(
        'every stored reading is counted once in the minute, hour and day tiers',
        settled && totals.hourN === rec.stored && totals.dayN === rec.stored,
        `stored ${rec.stored}; minute ${totals.minuteN}, hour ${totals.hourN}, day ${totals.dayN}, ` +
          `${totals.slices} slices and ${totals.marks} marks left`,
      );
    });
  },
};

export const SCENARIOS: ScenarioDef[] = [
  workerKillFullBuffer,
  workerKillBeforeCommit,
  workerSigterm,
  brokerRestart,
  mongoOutage,
  rebalance,
  poison,
  slowMongo,
  apiKill,
  compaction,
  producerAckLost,
  // Against the 3-node cluster (started on first use).
  ...CLUSTER_SCENARIOS,
];
