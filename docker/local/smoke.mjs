// Smoke test of docker/local/infra.mjs against real processes (no mocks):
//   node docker/local/smoke.mjs [--default-ports] [--only up,kafka-restart,...]
// Steps:
//   up             `infra.mjs up` in its own process group; kafkajs + mongodb driver calls the app relies on;
//                  then a terminal-style Ctrl-C (SIGINT to the group) and a check that nothing is left.
//   kafka-restart  startKafka, produce, restart() (clean) and kill()+restart() (unclean): data and offsets kept.
//   mongo-restart  startMongo h2: restart() and kill()+restart() keep documents; the memory backend restarts empty.
//   perf           org.apache.kafka.tools.ProducerPerformance runs against the broker.
//   orphans        a parent killed with SIGKILL takes its Java children with it; stopStarted() clears the state.
//   resolution     MONGODB_URI wins, a `mongod` on PATH comes next; ensureInfra reuses what answers.
//   concurrent     two processes call ensureInfra at the same moment: one starts, the other waits and reuses.
//   clients        (only with --only clients) the kafkajs and driver checks of `up` against servers that are
//                  already running: $KAFKA_BROKERS or 127.0.0.1:9092, $MONGODB_URI or mongodb://127.0.0.1:27017/funnel,
//                  e.g. an `infra.mjs up` in another shell.
// Ports: 19092/19093 and 28017 for `up` (9092/27017 with --default-ports), 19192–19197 and 28018–28021 for the rest,
// so a developer's own `infra.mjs up` on the default ports is left alone.
// Ends with "N passed, N failed" and exits non-zero on a failure.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { MongoClient } from 'mongodb';
import * as infra from './infra.mjs';

const { Kafka, logLevel, CompressionTypes } = kafkajs;
const { values: opts } = parseArgs({
  options: { 'default-ports': { type: 'boolean' }, only: { type: 'string' } },
});
const only = opts.only ? new Set(opts.only.split(',')) : null;
const UP_KAFKA = opts['default-ports'] ? 9092 : 19092;
const UP_MONGO = opts['default-ports'] ? 27017 : 28017;

const results = [];
const timings = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.log(`  [infra] ${m}`);

async function check(name, fn) {
  const started = Date.now();
  try {
    const detail = await fn();
    results.push({ name, ok: true });
    console.log(`  ok    ${name} (${Date.now() - started} ms)${detail ? `: ${detail}` : ''}`);
  } catch (err) {
    results.push({ name, ok: false, err });
    console.log(`  FAIL  ${name} (${Date.now() - started} ms): ${err?.stack ?? err}`);
  }
}

async function timed(label, fn) {
  const started = Date.now();
  const value = await fn();
  timings.push(`${label}: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  return value;
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(what, cond, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function kafkaClient(brokers, clientId = 'smoke') {
  return new Kafka({ clientId, brokers: [brokers], logLevel: logLevel.ERROR });
}

function mongoClient(uri) {
  return new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
}

async function produce(brokers, topic, count, { acks = -1, compression, idempotent = false, keyPrefix = 'k' } = {}) {
  const producer = kafkaClient(brokers).producer({ idempotent, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const messages = Array.from({ length: count }, (_, i) => ({
      key: `${keyPrefix}${i}`,
      value: JSON.stringify({ i }),
    }));
    const res = await producer.send({ topic, acks, compression, messages });
    assert(
      res.every((r) => r.errorCode === 0),
      `produce errors: ${JSON.stringify(res)}`,
    );
    return res;
  } finally {
    await producer.disconnect();
  }
}

// Consumes until `count` messages arrived, committing offset+1 by hand the way the app's flush does.
async function consumeCount(brokers, topic, groupId, count, { timeoutMs = 30_000 } = {}) {
  const consumer = kafkaClient(brokers).consumer({ groupId });
  await consumer.connect();
  const seen = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done;
    const finished = new Promise((resolve) => {
      done = resolve;
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
        for (const m of batch.messages) {
          seen.push({ partition: batch.partition, offset: m.offset, key: m.key?.toString() });
          resolveOffset(m.offset);
        }
        const last = batch.messages.at(-1);
        if (last) {
          await consumer.commitOffsets([
            { topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
          ]);
        }
        await heartbeat();
        if (seen.length >= count) done();
      },
    });
    const timer = setTimeout(() => done(), timeoutMs);
    await finished;
    clearTimeout(timer);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------

async function stepUp() {
  console.log(`\n== up: node docker/local/infra.mjs up --kafka-port ${UP_KAFKA} --mongo-port ${UP_MONGO}`);
  const started = Date.now();
  // detached: its own process group, so SIGINT to -pid is what a terminal's Ctrl-C does.
  const up = spawn(
    process.execPath,
    [
      path.join(import.meta.dirname, 'infra.mjs'),
      'up',
      '--kafka-port',
      String(UP_KAFKA),
      '--mongo-port',
      String(UP_MONGO),
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  up.stdout.on('data', (d) => {
    out += d;
  });
  up.stderr.on('data', (d) => {
    out += d;
  });
  let upExit = null;
  up.on('exit', (code, signal) => {
    upExit = { code, signal };
  });
  try {
    await waitFor(
      'infra.mjs up to print its addresses',
      async () => out.includes('export KAFKA_BROKERS') || upExit !== null,
      180_000,
    );
  } finally {
    console.log(out.replace(/^/gm, '  | ').trimEnd());
  }
  assert(upExit === null, `infra.mjs up exited early: ${JSON.stringify(upExit)}`);
  timings.push(`infra.mjs up until both answer: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  const brokers = /KAFKA_BROKERS=(\S+)/.exec(out)[1];
  const uri = /MONGODB_URI=(\S+)/.exec(out)[1];
  const pids = [...new Set([...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])))];

  await check('up: reports mongo-java-server kind and wire version 8', async () => {
    assert(
      /mongo-java-server 1\.47\.0, memory backend, reports MongoDB 5\.0\.0 \/ wire 8/.test(out),
      'kind line missing',
    );
  });

  await kafkaChecks(brokers);
  await mongoChecks(uri);

  await check('up: Ctrl-C (SIGINT to the process group) stops everything it started', async () => {
    process.kill(-up.pid, 'SIGINT');
    await waitFor('infra.mjs up to exit', async () => upExit !== null, 40_000);
    assert(upExit.code === 0, `exit ${JSON.stringify(upExit)}; output:\n${out}`);
    for (const pid of [up.pid, ...pids]) assert(!alive(pid), `pid ${pid} still alive`);
    for (const port of [UP_KAFKA, UP_KAFKA + 1, UP_MONGO])
      assert(!(await portOpen(port)), `port ${port} still listening`);
    const state = fs.existsSync(infra.STATE_FILE)
      ? JSON.parse(fs.readFileSync(infra.STATE_FILE, 'utf8'))
      : { entries: [] };
    const left = state.entries.filter((e) => pids.includes(e.pid));
    assert(left.length === 0, `state file still lists ${JSON.stringify(left)}`);
    return `pids ${[up.pid, ...pids].join(', ')} gone, ports ${UP_KAFKA}/${UP_KAFKA + 1}/${UP_MONGO} closed`;
  });
}

async function kafkaChecks(brokers) {
  const kafka = kafkaClient(brokers);
  const admin = kafka.admin();
  await admin.connect();
  const topic = `smoke-${Date.now()}`;
  try {
    await check('kafka: admin.createTopics (3 partitions, rf 1)', async () => {
      const created = await admin.createTopics({
        topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
        waitForLeaders: true,
      });
      assert(created === true, 'createTopics returned false');
    });
    await check('kafka: admin.fetchTopicMetadata / describeCluster / describeConfigs', async () => {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      assert(md.topics[0].partitions.length === 3, 'expected 3 partitions');
      const cluster = await admin.describeCluster();
      const configs = await admin.describeConfigs({ resources: [{ type: 2, name: topic }], includeSynonyms: false });
      return `cluster ${cluster.clusterId}, ${configs.resources[0].configEntries.length} topic config entries`;
    });
    await check('kafka: producer.send acks=-1 (100 messages)', async () => {
      await produce(brokers, topic, 100);
    });
    await check('kafka: producer.send acks=-1 gzip', async () => {
      await produce(brokers, topic, 50, { compression: CompressionTypes.GZIP, keyPrefix: 'gz' });
    });
    await check('kafka: idempotent producer (InitProducerId)', async () => {
      await produce(brokers, topic, 50, { idempotent: true, keyPrefix: 'id' });
    });
    await check('kafka: admin.fetchTopicOffsets (ListOffsets)', async () => {
      const offsets = await admin.fetchTopicOffsets(topic);
      const total = offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      assert(total === 200, `expected 200 messages, found ${total}`);
    });
    const groupId = `smoke-group-${Date.now()}`;
    await check('kafka: consumer group join + eachBatch + commitOffsets (autoCommit off)', async () => {
      const started = Date.now();
      const seen = await consumeCount(brokers, topic, groupId, 200);
      assert(seen.length === 200, `consumed ${seen.length} of 200`);
      return `200 messages in ${Date.now() - started} ms incl. group join`;
    });
    await check('kafka: admin.fetchOffsets returns the committed offsets', async () => {
      const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = t.partitions.reduce((n, p) => n + Number(p.offset), 0);
      assert(total === 200, `committed offsets sum to ${total}, expected 200`);
    });
    await check('kafka: a second consumer of the same group resumes at the committed offsets', async () => {
      await produce(brokers, topic, 10, { keyPrefix: 'late' });
      const seen = await consumeCount(brokers, topic, groupId, 10, { timeoutMs: 15_000 });
      assert(
        seen.length === 10 && seen.every((m) => m.key.startsWith('late')),
        `got ${seen.map((m) => m.key).join(',')}`,
      );
    });
    await check('kafka: admin.listGroups / describeGroups / resetOffsets / deleteGroups', async () => {
      const { groups } = await admin.listGroups();
      assert(
        groups.some((g) => g.groupId === groupId),
        'group not listed',
      );
      const described = await admin.describeGroups([groupId]);
      assert(described.groups[0].state === 'Empty', `state ${described.groups[0].state}`);
      await admin.resetOffsets({ groupId, topic, earliest: true });
      await admin.deleteGroups([groupId]);
    });
    await check('kafka: auto-created topic on first produce gets num.partitions=3', async () => {
      const auto = `${topic}-auto`;
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await producer.send({ topic: auto, acks: -1, messages: [{ value: 'x' }] });
      await producer.disconnect();
      const md = await admin.fetchTopicMetadata({ topics: [auto] });
      assert(md.topics[0].partitions.length === 3, `${md.topics[0].partitions.length} partitions`);
    });
    await check('kafka: admin.createPartitions / deleteTopics', async () => {
      await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] });
      await admin.deleteTopics({ topics: [topic, `${topic}-auto`] });
    });
  } finally {
    await admin.disconnect();
  }
}

async function mongoChecks(uri) {
  const client = mongoClient(uri);
  await client.connect();
  const db = client.db();
  const name = `smoke_${Date.now()}`;
  try {
    await check('mongo: createCollection with timeseries options', async () => {
      await db.createCollection(name, {
        timeseries: { timeField: 'ts', metaField: 'meta', granularity: 'seconds' },
        expireAfterSeconds: 86400,
      });
      const all = await db.listCollections().toArray();
      const c = all.find((x) => x.name === name);
      assert(c, 'collection not listed');
      return `listed as type '${c.type}'${c.options?.timeseries ? ' (timeseries)' : ' (stand-in: plain collection)'}`;
    });
    const docs = Array.from({ length: 1200 }, (_, i) => ({
      ts: new Date(Date.UTC(2025, 0, 1) + i * 1000),
      meta: { name: i % 2 ? 'cpu' : 'mem', source: `h${i % 3}` },
      value: i,
    }));
    await check('mongo: insertMany 1200 documents (ordered: false)', async () => {
      const r = await db.collection(name).insertMany(docs, { ordered: false });
      assert(r.insertedCount === 1200, `inserted ${r.insertedCount}`);
    });
    await check('mongo: aggregate $match/$group($sum,$avg,$min,$max)/$sort with the portable time bucket', async () => {
      const binMs = 60_000;
      const rows = await db
        .collection(name)
        .aggregate([
          { $match: { 'meta.name': 'cpu' } },
          {
            $group: {
              _id: { source: '$meta.source', bucket: { $subtract: ['$ts', { $mod: [{ $toLong: '$ts' }, binMs] }] } },
              count: { $sum: 1 },
              sum: { $sum: '$value' },
              avg: { $avg: '$value' },
              min: { $min: '$value' },
              max: { $max: '$value' },
            },
          },
          { $sort: { '_id.bucket': 1, '_id.source': 1 } },
        ])
        .toArray();
      // Expected values computed in JS from the same documents.
      const expected = new Map();
      for (const d of docs.filter((x) => x.meta.name === 'cpu')) {
        const bucket = d.ts.getTime() - (d.ts.getTime() % binMs);
        const k = `${d.meta.source}|${bucket}`;
        const e = expected.get(k) ?? { count: 0, sum: 0, min: Infinity, max: -Infinity };
        e.count++;
        e.sum += d.value;
        e.min = Math.min(e.min, d.value);
        e.max = Math.max(e.max, d.value);
        expected.set(k, e);
      }
      assert(rows.length === expected.size, `${rows.length} groups, expected ${expected.size}`);
      for (const r of rows) {
        assert(r._id.bucket instanceof Date, `bucket is ${typeof r._id.bucket}, not a Date`);
        const e = expected.get(`${r._id.source}|${r._id.bucket.getTime()}`);
        assert(
          e &&
            e.count === r.count &&
            e.sum === r.sum &&
            e.min === r.min &&
            e.max === r.max &&
            Math.abs(e.sum / e.count - r.avg) < 1e-9,
          `group ${JSON.stringify(r)} differs from ${JSON.stringify(e)}`,
        );
      }
      return `${rows.length} buckets match a JS recomputation`;
    });
    await check('mongo: createIndex, find with sort/limit, bulkWrite, countDocuments', async () => {
      await db.collection(name).createIndex({ 'meta.name': 1, ts: -1 });
      const latest = await db.collection(name).find({ 'meta.name': 'mem' }).sort({ ts: -1 }).limit(1).toArray();
      assert(latest[0].value === 1198, `latest mem value ${latest[0]?.value}`);
      const bw = await db
        .collection(`${name}_agg`)
        .bulkWrite([
          { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 1 } }, upsert: true } },
          { updateOne: { filter: { _id: 'a' }, update: { $inc: { n: 1 } }, upsert: true } },
        ]);
      assert(bw.upsertedCount === 1 && bw.modifiedCount === 1, JSON.stringify(bw));
      assert((await db.collection(name).countDocuments()) === 1200, 'count');
    });
  } finally {
    await db
      .collection(name)
      .drop()
      .catch(() => {});
    await db
      .collection(`${name}_agg`)
      .drop()
      .catch(() => {});
    await client.close();
  }
}

async function stepKafkaRestart() {
  console.log('\n== kafka-restart: startKafka({ port: 19192 }), restart() and kill()+restart()');
  const k = await timed('startKafka (warm caches, fresh data dir)', () => infra.startKafka({ port: 19192, log }));
  try {
    const topic = 'restart-test';
    const admin = kafkaClient(k.brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    await produce(k.brokers, topic, 30);
    await consumeCount(k.brokers, topic, 'restart-group', 30);

    await check('kafka: restart() (SIGTERM) keeps topic data and committed offsets', async () => {
      const pid = k.pid;
      await timed('Kafka restart() (stop + start on the same data dir)', () => k.restart());
      assert(k.pid !== pid && !alive(pid), 'old broker still alive');
      const a = kafkaClient(k.brokers).admin();
      await a.connect();
      try {
        const offsets = await a.fetchTopicOffsets(topic);
        const total = offsets.reduce((n, p) => n + Number(p.high), 0);
        assert(total === 30, `high watermarks sum to ${total}, expected 30`);
        const [t] = await a.fetchOffsets({ groupId: 'restart-group', topics: [topic] });
        const committed = t.partitions.reduce((n, p) => n + Number(p.offset), 0);
        assert(committed === 30, `committed offsets sum to ${committed}`);
      } finally {
        await a.disconnect();
      }
      const seen = await consumeCount(k.brokers, topic, `fresh-${Date.now()}`, 30);
      assert(seen.length === 30, `re-read ${seen.length} of 30`);
    });

    await check('kafka: kill() (SIGKILL) then restart() recovers the log', async () => {
      await produce(k.brokers, topic, 20, { keyPrefix: 'after' });
      await k.kill();
      assert(k.pid === null, 'pid should be null after kill');
      await timed('Kafka restart() after SIGKILL (log recovery)', () => k.restart());
      const a = kafkaClient(k.brokers).admin();
      await a.connect();
      try {
        const offsets = await a.fetchTopicOffsets(topic);
        const total = offsets.reduce((n, p) => n + Number(p.high), 0);
        assert(total === 50, `high watermarks sum to ${total}, expected 50`);
      } finally {
        await a.disconnect();
      }
    });

    await check('kafka: a new process can start on an existing dataDir without reformatting', async () => {
      await k.stop();
      const again = await infra.startKafka({ port: 19192, dataDir: k.dataDir, log });
      try {
        const a = kafkaClient(again.brokers).admin();
        await a.connect();
        const topics = await a.listTopics();
        await a.disconnect();
        assert(topics.includes(topic), `topics: ${topics}`);
      } finally {
        await again.stop();
      }
    });
  } finally {
    await k.stop();
  }
}

async function stepMongoRestart() {
  console.log('\n== mongo-restart: startMongo h2 and memory backends');
  const m = await timed('startMongo h2 (warm caches)', () =>
    infra.startMongo({ port: 28018, backend: 'h2', uri: null, log }),
  );
  try {
    await check('mongo h2: restart() (SIGTERM) keeps documents', async () => {
      let c = mongoClient(m.uri);
      await c.connect();
      await c
        .db()
        .collection('points')
        .insertMany(Array.from({ length: 500 }, (_, i) => ({ i, ts: new Date() })));
      await c.close();
      await timed('MongoDB (h2) restart()', () => m.restart());
      c = mongoClient(m.uri);
      await c.connect();
      const n = await c.db().collection('points').countDocuments();
      await c.close();
      assert(n === 500, `found ${n} documents after restart, expected 500`);
    });
    await check('mongo h2: kill() (SIGKILL) then restart() keeps documents written >100 ms before', async () => {
      let c = mongoClient(m.uri);
      await c.connect();
      await c
        .db()
        .collection('points')
        .insertMany(Array.from({ length: 100 }, (_, i) => ({ i: 500 + i })));
      await c.close();
      await sleep(500); // the stand-in's MVStore auto-commits every 100 ms, like mongod's journal
      await m.kill();
      await m.restart();
      c = mongoClient(m.uri);
      await c.connect();
      const n = await c.db().collection('points').countDocuments();
      await c.close();
      assert(n === 600, `found ${n} documents after kill+restart, expected 600`);
    });
  } finally {
    await m.stop();
  }
  await check('mongo memory: restart() comes back empty (documented)', async () => {
    const mem = await timed('startMongo memory (warm caches)', () => infra.startMongo({ port: 28019, uri: null, log }));
    try {
      let c = mongoClient(mem.uri);
      await c.connect();
      await c.db().collection('x').insertOne({ a: 1 });
      await c.close();
      await mem.restart();
      c = mongoClient(mem.uri);
      await c.connect();
      const n = await c.db().collection('x').countDocuments();
      await c.close();
      assert(n === 0, `memory backend kept ${n} documents`);
    } finally {
      await mem.stop();
    }
  });
}

async function stepPerf() {
  console.log('\n== perf: ProducerPerformance');
  const k = await infra.startKafka({ port: 19194, log });
  try {
    await check('kafka-tools: org.apache.kafka.tools.ProducerPerformance runs (100k x 200 B, acks=-1)', async () => {
      const r = await infra.runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
        '--topic',
        'perf',
        '--num-records',
        '100000',
        '--record-size',
        '200',
        '--throughput',
        '-1',
        '--bootstrap-server',
        k.brokers,
        // One flag with several values: repeating --command-property keeps only the last one.
        '--command-property',
        'acks=-1',
        'linger.ms=5',
        'batch.size=65536',
      ]);
      const line = r.out.split('\n').find((l) => l.startsWith('100000 records sent'));
      assert(r.code === 0 && line, `exit ${r.code}:\n${r.out}`);
      return line.replace(/, [\d.]+ ms max latency.*/, '');
    });
  } finally {
    await k.stop();
  }
}

async function stepOrphans() {
  console.log('\n== orphans: SIGKILL the Node process that started Kafka and MongoDB');
  const script = `
    import * as infra from ${JSON.stringify(path.join(import.meta.dirname, 'infra.mjs'))};
    const k = await infra.startKafka({ port: 19195, controllerPort: 19196, log: false });
    const m = await infra.startMongo({ port: 28020, backend: 'h2', uri: null, log: false });
    console.log('PIDS', k.pid, m.pid);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  await waitFor('the child to start both', async () => out.includes('PIDS') || child.exitCode !== null, 120_000);
  const [kpid, mpid] = /PIDS (\d+) (\d+)/.exec(out).slice(1).map(Number);
  await check('orphans: the state file lists both with the parent as owner', async () => {
    const { entries } = JSON.parse(fs.readFileSync(infra.STATE_FILE, 'utf8'));
    for (const pid of [kpid, mpid]) {
      assert(
        entries.some((e) => e.pid === pid && e.owner === child.pid),
        `pid ${pid} not recorded`,
      );
    }
  });
  await check("orphans: stopStarted() from another process leaves a live owner's processes alone", async () => {
    const r = await infra.stopStarted({ log: false });
    assert(!r.some((e) => e.pid === kpid || e.pid === mpid), `stopped ${JSON.stringify(r)}`);
    assert(alive(kpid) && alive(mpid), 'children died');
  });
  child.kill('SIGKILL');
  await check('orphans: Java children exit by themselves once the parent is SIGKILLed (stdin EOF)', async () => {
    const started = Date.now();
    await waitFor('both children to exit', async () => !alive(kpid) && !alive(mpid), 30_000);
    return `gone ${Date.now() - started} ms after the SIGKILL`;
  });
  await check("orphans: stopStarted() then clears the dead owner's entries", async () => {
    const r = await infra.stopStarted({ log: false });
    const mine = r.filter((e) => e.pid === kpid || e.pid === mpid);
    assert(mine.length === 2 && mine.every((e) => e.was === 'gone'), JSON.stringify(r));
    const left = fs.existsSync(infra.STATE_FILE) ? JSON.parse(fs.readFileSync(infra.STATE_FILE, 'utf8')).entries : [];
    assert(!left.some((e) => e.pid === kpid || e.pid === mpid), 'entries left');
  });
}

async function stepResolution() {
  console.log('\n== resolution: MONGODB_URI, mongod on PATH, ensureInfra reuse');
  const m = await infra.startMongo({ port: 28018, uri: null, log });
  const savedEnv = {
    MONGODB_URI: process.env.MONGODB_URI,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    PATH: process.env.PATH,
  };
  try {
    await check('startMongo: MONGODB_URI set -> kind external, nothing started, restart() refuses', async () => {
      process.env.MONGODB_URI = m.uri;
      const ext = await infra.startMongo({ log: false });
      assert(ext.kind === 'external' && ext.pid === null && ext.uri === m.uri, JSON.stringify(ext));
      await ext.restart().then(
        () => {
          throw new Error('restart() should refuse');
        },
        (err) => assert(/not started by infra/.test(err.message), err.message),
      );
    });
    delete process.env.MONGODB_URI;

    await check('ensureInfra: reuses what answers on KAFKA_BROKERS / MONGODB_URI and starts nothing', async () => {
      const k = await infra.startKafka({ port: 19192, log: false });
      try {
        process.env.KAFKA_BROKERS = k.brokers;
        process.env.MONGODB_URI = m.uri;
        const before = fs.existsSync(infra.STATE_FILE) ? fs.readFileSync(infra.STATE_FILE, 'utf8') : '';
        const env = await infra.ensureInfra({ log });
        assert(env.startedByUs.length === 0, `started ${env.startedByUs}`);
        assert(env.kafka.kind === 'external' && env.mongo.kind === 'external', 'kinds');
        await env.stopAll();
        assert(alive(k.pid) && alive(m.pid), 'stopAll() stopped something it did not start');
        const after = fs.existsSync(infra.STATE_FILE) ? fs.readFileSync(infra.STATE_FILE, 'utf8') : '';
        assert(before === after, 'state file changed');
      } finally {
        await k.stop();
      }
    });

    await check(
      'ensureInfra: KAFKA_BROKERS/MONGODB_URI on loopback that do not answer -> starts there, stopAll() stops',
      async () => {
        process.env.KAFKA_BROKERS = '127.0.0.1:19192';
        process.env.MONGODB_URI = 'mongodb://127.0.0.1:28019/funnel_smoke';
        const env = await timed('ensureInfra starting both (warm caches)', () => infra.ensureInfra({ log }));
        try {
          assert(env.startedByUs.join() === 'kafka,mongo', `started ${env.startedByUs}`);
          assert(env.mongo.uri === 'mongodb://127.0.0.1:28019/funnel_smoke', env.mongo.uri);
        } finally {
          await env.stopAll();
        }
        assert(!(await portOpen(19192)) && !(await portOpen(28019)), 'ports still open');
      },
    );

    await check('startMongo: a `mongod` on PATH is preferred (fake mongod wrapping the stand-in)', async () => {
      delete process.env.MONGODB_URI;
      const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-mongod-'));
      const cp = fs
        .readFileSync(
          fs
            .readdirSync(path.join(infra.FUNNEL_DIR, 'cache'))
            .filter((f) => f.startsWith('mongo-') && f.endsWith('.classpath'))
            .map((f) => path.join(infra.FUNNEL_DIR, 'cache', f))[0],
          'utf8',
        )
        .trim();
      // Accepts mongod's flags and keeps its data in <dbpath>/data.mv, so restart() must keep documents.
      fs.writeFileSync(
        path.join(bin, 'mongod'),
        `#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in --dbpath) D="$2"; shift 2;; --port) P="$2"; shift 2;; --bind_ip) H="$2"; shift 2;; *) shift;; esac; done
exec java -cp "${cp}" ${path.join(import.meta.dirname, 'mongo', 'MongoStandIn.java')} --host "$H" --port "$P" --backend h2 --file "$D/data.mv"
`,
        { mode: 0o755 },
      );
      process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
      const md = await infra.startMongo({ port: 28019, uri: null, log });
      try {
        assert(md.kind === 'mongod', `kind ${md.kind}`);
        let c = mongoClient(md.uri);
        await c.connect();
        await c.db().collection('x').insertOne({ a: 1 });
        await c.close();
        await md.restart();
        c = mongoClient(md.uri);
        await c.connect();
        const n = await c.db().collection('x').countDocuments();
        await c.close();
        assert(n === 1, `mongod restart kept ${n} documents`);
        return process.platform === 'linux' ? `spawned via setpriv --pdeathsig (pid ${md.pid})` : '';
      } finally {
        await md.stop();
        process.env.PATH = savedEnv.PATH;
        fs.rmSync(bin, { recursive: true, force: true });
      }
    });
  } finally {
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await m.stop();
  }
}

async function stepConcurrent() {
  console.log('\n== concurrent: two processes run ensureInfra on 127.0.0.1:19196 / 28021 at once');
  const script = `
    import * as infra from ${JSON.stringify(path.join(import.meta.dirname, 'infra.mjs'))};
    process.env.KAFKA_BROKERS = '127.0.0.1:19196';
    process.env.MONGODB_URI = 'mongodb://127.0.0.1:28021/funnel';
    const env = await infra.ensureInfra({ log: (m) => console.log('  [' + process.pid + '] ' + m) });
    console.log('STARTED ' + JSON.stringify(env.startedByUs));
    // The servers' handles are unref'd: without a timer this process would end here and take them along.
    const keepAlive = setInterval(() => {}, 1000);
    await new Promise((r) => process.once('SIGTERM', r));
    clearInterval(keepAlive);
    await env.stopAll();
    process.exit(0);
  `;
  const runs = [0, 1].map(() => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const run = { child, out: '' };
    child.stdout.on('data', (d) => {
      run.out += d;
      process.stdout.write(d);
    });
    return run;
  });
  try {
    await waitFor(
      'both processes to be ready',
      async () => runs.every((r) => r.out.includes('STARTED') || r.child.exitCode !== null),
      180_000,
    );
    await check('concurrent: exactly one process starts each server, the other reuses it', async () => {
      const started = runs.map((r) => JSON.parse(/STARTED (.*)/.exec(r.out)?.[1] ?? 'null'));
      assert(started.every(Boolean), `a process failed: ${runs.map((r) => r.out).join('\n')}`);
      const all = started.flat().sort();
      assert(all.join() === 'kafka,mongo', `started ${JSON.stringify(started)}`);
    });
  } finally {
    for (const r of runs) r.child.kill('SIGTERM');
    await waitFor(
      'both processes to exit',
      async () => runs.every((r) => r.child.exitCode !== null || r.child.signalCode !== null),
      60_000,
    );
  }
}

async function stepClients() {
  const brokers = process.env.KAFKA_BROKERS || '127.0.0.1:9092';
  const uri = process.env.MONGODB_URI || 'mongodb://127.0.0.1:27017/funnel';
  console.log(`\n== clients: kafkajs against ${brokers}, mongodb driver against ${uri}`);
  await kafkaChecks(brokers);
  await mongoChecks(uri);
}

const steps = {
  up: stepUp,
  'kafka-restart': stepKafkaRestart,
  'mongo-restart': stepMongoRestart,
  perf: stepPerf,
  orphans: stepOrphans,
  resolution: stepResolution,
  concurrent: stepConcurrent,
  clients: stepClients,
};
for (const [name, step] of Object.entries(steps)) {
  if (only ? !only.has(name) : name === 'clients') continue;
  try {
    await step();
  } catch (err) {
    results.push({ name: `${name} (setup)`, ok: false, err });
    console.log(`  FAIL  ${name} setup: ${err?.stack ?? err}`);
  }
}

// Data dirs of the ports used here; a developer's .funnel/kafka-9092 etc. are left alone unless --default-ports.
for (const dir of [
  `kafka-${UP_KAFKA}`,
  `mongo-${UP_MONGO}`,
  'kafka-19192',
  'kafka-19194',
  'kafka-19195',
  'kafka-19196',
  'mongo-28018',
  'mongo-28019',
  'mongo-28020',
  'mongo-28021',
]) {
  fs.rmSync(path.join(infra.FUNNEL_DIR, dir), { recursive: true, force: true });
}

console.log('\n== timings');
for (const t of timings) console.log(`  ${t}`);
const failed = results.filter((r) => !r.ok);
console.log(`\nsmoke: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
