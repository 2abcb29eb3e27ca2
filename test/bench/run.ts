// npm run bench [-- --quick | --smoke] [-- --only STAGE,…] [-- --json FILE] [-- --no-pin] [-- --profile]
// Measures Funnel stage by stage beside the ceiling of the component under each stage, in one run on this
// machine, and prints a table of figures and of the issue's targets (PASS/MISS). See test/bench/README.md.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

import { encodePointsRecord } from '@funnel/contracts';
import {
  ensureInfra,
  freePort,
  pollUntil,
  runKafkaTool,
  Scrape,
  sleep,
  startMongo,
  startKafkaCluster,
  startProcess,
} from '@funnel/dev-infra';
import { bucketsPipeline } from '@funnel/storage';

import { FunnelNode, settingDefault } from '../faults/funnel-node.js';
import { ADMIN_AUTH, TEST_ADMIN_TOKEN } from '../support/env.js';
import type { FormatsJob, FormatsLoadResult } from './formats-load.js';
import { FORMATS_PLAN, formatsStage, type FormatRun } from './formats.js';
import { cpuMicros, memoryOf, Pinning } from './proc.js';
import { QUERIES_PLAN, queriesStage } from './queries.js';
import { evaluateTargets, formatTable, STAGE_NAMES, type BenchFigures, type StageName } from './targets.js';
import { TIERS_PLAN, tiersStage } from './tiers.js';
import { loadtest, median, REGISTER } from './tools.js';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    smoke: { type: 'boolean', default: false },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    // Also the cluster stage: the batched and single-reading runs and L_kafka against 3 brokers (RF 3, acks=all).
    cluster: { type: 'boolean', default: false },
    // Only these stages (the ceilings L_kafka and L_mongo always run): the figures and targets of the others are
    // left out of the table and the JSON. For measuring one stage at full size without the whole run.
    only: { type: 'string' },
    // The formats stage: only these runs (json, lp, jsonGzip, lpGzip, influxClient, and the paced jsonPaced,
    // jsonGzipPaced, lpPaced, lpGzipPaced; comma list), e.g. to profile one. Its targets are then left out.
    formats: { type: 'string' },
  },
});
const ran: ReadonlySet<StageName> = (() => {
  const names = flags.only?.split(',').map((s) => s.trim()) ?? STAGE_NAMES.filter((s) => s !== 'cluster');
  const unknown = names.filter((s) => !(STAGE_NAMES as readonly string[]).includes(s));
  if (unknown.length)
    throw new Error(`--only: unknown stage ${unknown.join(', ')} (stages: ${STAGE_NAMES.join(', ')})`);
  return new Set([...(names as StageName[]), ...(flags.cluster ? (['cluster'] as const) : [])]);
})();
/** --smoke runs every stage's code at toy sizes (npm test: the bench must not rot); its figures mean nothing. */
const smoke = flags.smoke!;
const quick = flags.quick! || smoke;

/** How much of everything: full repeats more and runs the issue's sizes; quick is short; smoke is tiny. */
const PLAN = smoke
  ? {
      reps: 1,
      warmS: 1,
      loadS: 1,
      halfWarmS: 1,
      halfS: 1,
      batchedS: 2,
      batchedRate: 5_000,
      settleS: 30,
      backlog: 5_000,
      aggReps: 1,
      mongoTotal: 20_000,
      mongoReps: 1,
      kafkaRecords: 500,
    }
  : quick
    ? {
        reps: 1,
        warmS: 6,
        loadS: 4,
        halfWarmS: 2,
        halfS: 6,
        batchedS: 6,
        batchedRate: 50_000,
        settleS: 30,
        backlog: 200_000,
        aggReps: 3,
        mongoTotal: 100_000,
        mongoReps: 1,
        kafkaRecords: 2_000,
      }
    : {
        reps: 3,
        warmS: 20,
        loadS: 8,
        halfWarmS: 3,
        halfS: 20,
        batchedS: 60,
        batchedRate: 50_000,
        settleS: 120,
        backlog: 1_000_000,
        aggReps: 5,
        mongoTotal: 300_000,
        mongoReps: 3,
        kafkaRecords: 8_000,
      };
/** Funnel's defaults that the ceilings are matched to, as the config lib declares them. */
const FUNNEL = {
  flushIntervalMs: settingDefault('FLUSH_INTERVAL_MS'),
  flushMaxPoints: settingDefault('FLUSH_MAX_POINTS'),
  writeStreams: settingDefault('FLUSH_WRITE_STREAMS'),
  pointsPerRecord: settingDefault('KAFKA_POINTS_PER_RECORD'),
  partitions: settingDefault('KAFKA_TOPIC_PARTITIONS'),
};
const SINGLE_CONNECTIONS = 64;
const BATCH = 1000;
const BATCHED_CONNECTIONS = 8;
/**
 * Offered rate of the batched stage: the issue's sustained target (PLAN.batchedRate; smoke offers less).
 * Offered at the target rather than flat out, so that lag and freshness say whether this rate is sustained;
 * when it is not, what the worker stored per second is the pipeline's end-to-end capacity.
 */
const BATCHED_RATE = PLAN.batchedRate;
const BACKLOG_BODY = 5000;
/** The cluster stage's nodes: 19990/19991, 19992/19993, 19994/19995 (away from the fault suite's ports). */
const CLUSTER_BASE_PORT = 19990;
/** Committed-offset lag (records) that still counts as flat: a flush interval's worth at the target rate. */
const FLAT_LAG_RECORDS = Math.ceil((50_000 * (FUNNEL.flushIntervalMs / 1000)) / FUNNEL.pointsPerRecord);

const log = (line: string) => process.stderr.write(`[bench] ${new Date().toISOString().slice(11, 19)} ${line}\n`);
const rid = `b${Date.now().toString(36)}`;
const pin = new Pinning(!flags['no-pin']);
// The orchestrator (lag polling, backlog posting) runs on the generator's CPU too.
if (pin.enabled) spawnSync('taskset', ['-a', '-pc', '1', String(process.pid)], { stdio: 'ignore' });
const tmp = await mkdtemp(path.join(os.tmpdir(), `funnel-bench-${rid}-`));
const profDir = path.resolve(`.funnel/bench/profiles-${rid}`);
const loadAtStart = os.loadavg();
const started = Date.now();

const infra = await ensureInfra({ log: (l: string) => log(`infra: ${l}`) });
const brokers = infra.kafka.brokers;
// A MongoDB server of the bench's own (the stand-in keeps everything in its heap: a million readings must
// not crowd a server that other test runs share). The full run at 50,000/s offered leaves ~3 million
// readings in it: with a 6 GB heap its GC thrashed once until the driver gave the server up (12 GB: no). The
// query stage's year, fleet day and dashboards' live ingest took 12 GB to 100 % old generation, 40 full GCs.
const mongoServer = await startMongo({
  port: await freePort(),
  heapMb: smoke ? 1024 : quick ? 2048 : 16_384,
  uri: null,
  log: false,
});
const mongoUri = (db: string) => `mongodb://127.0.0.1:${mongoServer.port}/${db}`;
const funnelDb = `bench_${rid}`;
// The backlog and aggregation stage runs on a topic, group and database of its own: what the batched run
// left unconsumed must not be part of the drain, nor its readings crowd the stand-in's heap.
const backlogDb = `bench_${rid}_backlog`;
// Patient with a stand-in busy collecting garbage: a slow answer is not a lost server.
const mongo = new MongoClient(mongoUri(backlogDb), { connectTimeoutMS: 120_000, serverSelectionTimeoutMS: 120_000 });
const kafka = new Kafka({ clientId: `bench-${rid}`, brokers: [brokers], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const STAGES = {
  single: { topic: `bench.single.${rid}`, groupId: `bench-single-${rid}`, db: `${funnelDb}_single` },
  ingest: { topic: `bench.points.${rid}`, groupId: `bench-${rid}`, db: funnelDb },
  sustained: { topic: `bench.sustained.${rid}`, groupId: `bench-sustained-${rid}`, db: `${funnelDb}_sustained` },
  backlog: { topic: `bench.backlog.${rid}`, groupId: `bench-backlog-${rid}`, db: backlogDb },
  tiersYear: { topic: `bench.tiers-year.${rid}`, groupId: `bench-tiers-year-${rid}`, db: `${funnelDb}_year` },
  tiersFleet: { topic: `bench.tiers-fleet.${rid}`, groupId: `bench-tiers-fleet-${rid}`, db: `${funnelDb}_fleet` },
  queries: { topic: `bench.queries.${rid}`, groupId: `bench-queries-${rid}`, db: `${funnelDb}_queries` },
};
/** A stage runs against the shared broker unless it names other brokers (the cluster stage). */
type Stage = (typeof STAGES)[keyof typeof STAGES] & {
  brokers?: string;
  admin?: typeof admin;
  kafkaPids?: () => number[];
};
const nodes: FunnelNode[] = [];

function funnelNode(name: string, role: 'api' | 'worker', port: number, stage: Stage): FunnelNode {
  const env: Record<string, string> = {
    KAFKA_BROKERS: stage.brokers ?? brokers,
    KAFKA_TOPIC: stage.topic,
    KAFKA_GROUP_ID: stage.groupId,
    KAFKA_TOPIC_PARTITIONS: String(FUNNEL.partitions),
    MONGODB_URI: mongoUri(stage.db),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    // As compose and `npm run stack` run the worker (README, Worker memory).
    ...(role === 'worker' ? { NODE_OPTIONS: '--max-old-space-size=192' } : {}),
  };
  const node = new FunnelNode(name, role, env, port, path.join(tmp, `${name}.log`));
  // --cpu-prof is not allowed in NODE_OPTIONS: it goes on the command line.
  if (flags.profile)
    node.nodeArgs = [
      '--cpu-prof',
      `--cpu-prof-dir=${profDir}`,
      `--import=${path.resolve('test/bench/profile-exit.mjs')}`,
    ];
  nodes.push(node);
  return node;
}

async function startNode(node: FunnelNode): Promise<FunnelNode> {
  node.start();
  pin.pinService(node.pid!);
  await node.waitReady();
  pin.freeHelpers(node.pid!);
  return node;
}

async function stopNode(node: FunnelNode): Promise<void> {
  node.sampleMemory();
  if (flags.profile && node.pid) {
    process.kill(node.pid, 'SIGUSR2');
    for (let i = 0; i < 100 && node.running; i++) await sleep(100);
  }
  await node.terminate();
}

/**
 * A full GC of the stand-in (`jcmd <pid> GC.run`) after a stage dropped its documents: otherwise the next
 * stage pays for collecting millions of them (seconds-long pauses measured as freshness). A no-op without
 * jcmd or a pid.
 */
function collectStoreGarbage(): void {
  if (!mongoServer.pid) return;
  const t = performance.now();
  const gc = spawnSync('jcmd', [String(mongoServer.pid), 'GC.run'], { encoding: 'utf8', timeout: 120_000 });
  log(
    gc.status === 0
      ? `stand-in GC after the stage: ${Math.round(performance.now() - t)} ms`
      : `no GC of the stand-in (jcmd: ${gc.error?.message ?? gc.stderr.trim()})`,
  );
}

async function lag({ topic, groupId, admin: stageAdmin = admin }: Stage): Promise<{ end: number; committed: number }> {
  const ends = await stageAdmin.fetchTopicOffsets(topic);
  const [done] = await stageAdmin.fetchOffsets({ groupId, topics: [topic] });
  const committed = new Map(done?.partitions.map((p) => [p.partition, Math.max(0, Number(p.offset))]) ?? []);
  return {
    end: ends.reduce((s, e) => s + Number(e.high), 0),
    committed: ends.reduce((s, e) => s + (committed.get(e.partition) ?? 0), 0),
  };
}

/** A process's metrics from GET /metrics. */
const scrape = (url: string): Promise<Scrape> => Scrape.of(`${url}/metrics`);

/** Resolves once `url` answers 2xx. */
const waitHttp = (url: string) =>
  pollUntil(`${url} to answer`, async () => (await fetch(url)).ok, { timeoutMs: 20_000, intervalMs: 100 });

const single = (target: string, durationS: number, extra: string[] = []) => [
  `--target=${target}`,
  `--duration=${durationS}`,
  '--batch=1',
  `--connections=${SINGLE_CONNECTIONS}`,
  '--sensors=100',
  '--query-users=0',
  '--freshness-interval=0',
  '--no-reconcile',
  ...extra,
];

/** A batched run at `rate` readings/s on a stage of its own (fresh api, worker, topic and database). */
async function batchedStage(name: string, stage: Stage, rate: number, durationS: number) {
  // ---- Batched end to end, with lag and CPU sampled.
  // On the MongoDB stand-in every query scans the whole collection (it ignores non-unique indexes) and
  // holds up inserts meanwhile, so polling MongoDB (freshness markers, stored counts) during this stage
  // would measure the polling. End to end is read from Kafka instead: the worker commits an offset only
  // after the readings up to it are stored. Freshness comes from the worker's own histogram of time from
  // the api's receipt to the write; the stored count is checked once, at the end.
  const api = await startNode(funnelNode(`api-${name}`, 'api', await freePort(), stage));
  const worker = await startNode(funnelNode(`worker-${name}`, 'worker', await freePort(), stage));
  const target = api.url;
  // Freshness is read over the run after its first seconds: the worker's first flush has no earlier write
  // to time its start by (see flushDueAt), and the fresh processes are warming up.
  let e2eBefore = await scrape(worker.url);
  const freshnessFrom = setTimeout(
    () =>
      void scrape(worker.url).then(
        (metrics) => (e2eBefore = metrics),
        () => undefined,
      ),
    Math.min(5000, (durationS * 1000) / 4),
  );
  const offsetsBefore = await lag(stage);
  // Every process of the pipeline: api, worker, and the broker and store when this run knows their pids.
  const kafkaPids = stage.kafkaPids?.() ?? [infra.kafka.pid];
  const pipelinePids = [api.pid!, worker.pid!, ...kafkaPids, mongoServer.pid].filter((p): p is number => !!p);
  const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuMicros(pid), 0);
  const cpuBefore = cpuOf([api.pid!, worker.pid!]);
  const cpuAllBefore = cpuOf(pipelinePids);
  const lagSamples: Array<{ t: number; lag: number }> = [];
  const t0 = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const o = await lag(stage).catch(() => undefined);
      if (o) lagSamples.push({ t: (performance.now() - t0) / 1000, lag: o.end - o.committed });
      await sleep(1000);
    }
  })();
  const batched = await loadtest(pin, tmp, [
    `--target=${target}`,
    `--duration=${durationS}`,
    `--batch=${BATCH}`,
    `--connections=${BATCHED_CONNECTIONS}`,
    `--rate=${rate}`,
    '--sensors=100',
    '--metrics-per-sensor=2',
    '--query-users=0',
    '--freshness-interval=0',
    '--no-reconcile',
  ]);
  sampling = false;
  clearTimeout(freshnessFrom);
  await sampler;
  const loadEnd = await lag(stage);
  let settledAt: number | undefined;
  let settleEnd = loadEnd;
  const settleDeadline = performance.now() + PLAN.settleS * 1000;
  while (performance.now() < settleDeadline) {
    settleEnd = await lag(stage);
    if (settleEnd.committed >= loadEnd.end) {
      settledAt = performance.now();
      break;
    }
    await sleep(200);
  }
  const settleEndAt = settledAt ?? performance.now();
  const cpuUsed = cpuOf([api.pid!, worker.pid!]) - cpuBefore;
  const cpuAllUsed = cpuOf(pipelinePids) - cpuAllBefore;
  const e2eAfter = await scrape(worker.url);
  const freshnessP99 = e2eAfter.quantileSince(e2eBefore, 'funnel_end_to_end_latency_seconds', 0.99);
  const stored = await mongo.db(stage.db).collection('points').countDocuments({});
  const during = lagSamples.filter((s) => s.t <= durationS);
  const third = Math.max(1, Math.floor(during.length / 3));
  const firstLag = median(during.slice(0, third).map((s) => s.lag));
  const lastLag = median(during.slice(-third).map((s) => s.lag));
  const lagFlat = lastLag <= Math.max(2 * firstLag, FLAT_LAG_RECORDS);
  // Readings stored (committed) ÷ time from the start of the load until the worker committed the last of
  // them, or until the settle time ran out; records of this run hold readingsAccepted / records readings.
  const perRecord = batched.ingest.readingsAccepted / Math.max(1, loadEnd.end - offsetsBefore.end);
  const storedInRun = Math.min(
    batched.ingest.readingsAccepted,
    (settleEnd.committed - offsetsBefore.committed) * perRecord,
  );
  const batchedRate = storedInRun / ((settleEndAt - t0) / 1000);
  log(
    `batched ${name} (${rate}/s offered): ${Math.round(batched.ingest.readingsPerSec)} accepted/s, ${Math.round(batchedRate)} end to end/s ` +
      `(drained ${settledAt ? `${((settledAt - t0) / 1000).toFixed(1)} s after the start` : 'NOT within the settle time'}), ` +
      `lag first/last third ${firstLag}/${lastLag} records, stored ${stored} of ${batched.ingest.readingsAccepted} accepted, ` +
      `freshness p99 ≤ ${freshnessP99 === null ? '?' : freshnessP99 * 1000} ms`,
  );
  const apiPeak = api.sampleMemory()?.peakMb ?? 0;
  // The worker may still have a backlog from the batched run: it must not compete with what follows.
  await stopNode(worker);
  await stopNode(api);
  await mongo.db(stage.db).dropDatabase();
  collectStoreGarbage();
  return {
    rate,
    batched,
    batchedRate,
    lagFlat,
    lagMax: Math.max(0, ...during.map((s) => s.lag)),
    freshnessP99Ms: freshnessP99 === null ? null : freshnessP99 * 1000,
    apiPeak,
    cpuPerReading: cpuUsed / batched.reconciliation.accepted,
    cpuAllPerReading:
      pipelinePids.length === 3 + kafkaPids.length ? cpuAllUsed / batched.reconciliation.accepted : null,
    lagSamples,
  };
}

/**
 * Kafka's own producer benchmark at Funnel's record size, acks=all, against `bootstrap`: MB/s of each
 * measured run. The first run is a warm-up: the broker was just started, and its JIT-compiled produce path
 * is what every later stage leans on.
 */
async function producerPerformance(bootstrap: string, topic: string, recordBytes: number): Promise<number[]> {
  const rates: number[] = [];
  for (let i = 0; i < 1 + (quick ? 1 : 2); i++) {
    const perf = await runKafkaTool('org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(PLAN.kafkaRecords),
      '--record-size',
      String(recordBytes),
      '--throughput',
      '-1',
      '--bootstrap-server',
      bootstrap,
      '--command-property',
      'acks=all',
      'linger.ms=0',
      'compression.type=none',
      `max.request.size=${8 * 1024 * 1024}`,
    ]);
    const m = /records sent, [\d.]+ records\/sec \(([\d.]+) MB\/sec\)/.exec(perf.out);
    if (!m) throw new Error(`ProducerPerformance printed no summary (exit ${perf.code}):\n${perf.out.slice(-2000)}`);
    if (i > 0) rates.push(Number(m[1]));
  }
  return rates;
}

try {
  // The ceilings of the broker and the store first: they also warm both JVMs before Funnel is measured.
  // ---- L_kafka: the broker's own producer benchmark with Funnel's record size and acks=all.
  // The record as the api encodes it (points-record.compact.ts), with api-made ids of one request.
  const recordBytes = encodePointsRecord({
    v: 1,
    receivedAt: Date.now(),
    points: Array.from({ length: FUNNEL.pointsPerRecord }, (_, i) => ({
      id: `r:${'0'.repeat(24)}:${i}`,
      sensorId: `lt${rid}-s${i % 100}`,
      metric: `m${i % 2}`,
      value: Math.round(Math.random() * 20000) / 100 - 50,
      ts: Date.now(),
    })),
  }).length;
  const kafkaTopic = `bench.kafka.${rid}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: kafkaTopic, numPartitions: FUNNEL.partitions }] });
  const kafkaRates = await producerPerformance(brokers, kafkaTopic, recordBytes);
  const lKafkaMB = median(kafkaRates);
  const lKafkaReadings = ((lKafkaMB * 1024 * 1024) / recordBytes) * FUNNEL.pointsPerRecord;
  log(`L_kafka ${kafkaRates.join(', ')} MB/s of ${recordBytes} B records`);

  // ---- L_mongo: raw driver insertMany at Funnel's batch size, on the service CPU.
  const ceiling = startProcess(process.execPath, {
    prefix: pin.prefix('service'),
    args: [
      '--import',
      REGISTER,
      'test/bench/mongo-ceiling.ts',
      mongoUri(`${funnelDb}_ceiling`),
      String(FUNNEL.flushMaxPoints),
      String(PLAN.mongoTotal),
      // One more repetition than measured: the first warms the store (a fresh JVM) and is not counted.
      String(PLAN.mongoReps + 1),
      String(FUNNEL.writeStreams),
    ],
  });
  // As for the worker it is measured against (startNode): once node has started its helper threads,
  // during the warm-up repetition.
  await sleep(500);
  pin.freeHelpers(ceiling.pid!);
  if ((await ceiling.exited).code !== 0) throw new Error(`mongo-ceiling failed:\n${ceiling.output()}`);
  const ceilingRates = JSON.parse(ceiling.output().trim().split('\n').at(-1)!) as {
    docsPerSec: number[];
    oneStreamDocsPerSec: number[];
    clientCpuMicrosPerDoc: number[];
  };
  const lMongo = median(ceilingRates.docsPerSec.slice(1));
  const lMongoOneStream = median(ceilingRates.oneStreamDocsPerSec.slice(1));
  const lMongoCpu = median(ceilingRates.clientCpuMicrosPerDoc.slice(1));
  log(
    `L_mongo ${ceilingRates.docsPerSec.map(Math.round).join(', ')} docs/s in ${FUNNEL.writeStreams} streams; ` +
      `one stream ${ceilingRates.oneStreamDocsPerSec.map(Math.round).join(', ')} (first of each: warm-up); ` +
      `driver CPU ${ceilingRates.clientCpuMicrosPerDoc.map((c) => c.toFixed(1)).join(', ')} µs per document`,
  );

  // Measured by the ceilings above whatever stages run; each stage adds its own figures (--only picks stages).
  const figures: Partial<BenchFigures> = {
    lKafkaMBPerSec: lKafkaMB,
    lKafkaRecordBytes: recordBytes,
    lKafkaReadingsPerSec: lKafkaReadings,
    lMongoDocsPerSec: lMongo,
    lMongoOneStreamDocsPerSec: lMongoOneStream,
    lMongoClientCpuMicrosPerDoc: lMongoCpu,
    writeStreams: FUNNEL.writeStreams,
    // Not availableParallelism(): this process is pinned to the generator's CPU.
    cores: os.cpus().length,
    flushIntervalMs: FUNNEL.flushIntervalMs,
  };
  // What the cluster stage compares against, when the stages that measure it ran.
  let singleRate: number | undefined;
  let half: Awaited<ReturnType<typeof loadtest>> | undefined;
  let atTarget: Awaited<ReturnType<typeof batchedStage>> | undefined;
  const apiPeaks: number[] = [];
  let rounds: Array<Record<'http' | 'nest' | 'funnel', number>> = [];
  let sustained: Awaited<ReturnType<typeof batchedStage>> | undefined;
  if (ran.has('single')) {
    // ---- L_http (bare Fastify), L_nest (the smallest Nest app on the same adapter: the framework's own share
    // of the request path) and Funnel's api, all up at once, under the same single-reading load. They are
    // measured round by round, the three back to back in an order that rotates, so that a noisy moment of the
    // host weighs on all three alike; each round gives its own ratios, and the medians of those are reported.
    log(`pinning: ${pin.description}`);
    const ceilingServer = async (script: string) => {
      const port = await freePort();
      const server = startProcess(process.execPath, {
        prefix: pin.prefix('service'),
        args: ['--import', REGISTER, script, String(port)],
      });
      const url = `http://127.0.0.1:${port}`;
      await waitHttp(`${url}/health/live`);
      pin.freeHelpers(server.pid!);
      return {
        url,
        stop: () => server.stop(),
      };
    };
    const bareHttp = await ceilingServer('test/bench/bare-http.ts');
    const bareNest = await ceilingServer('test/bench/bare-nest.ts');
    // Funnel's api, on the service CPU, publishing to Kafka as always. The worker is another stage (and in
    // production another process or machine): it is not run here, so the api is measured against L_http
    // without the consumer and the store's inserts on the same two cores. End to end is the batched stages'.
    // Each stage has a topic, group and database of its own: the stand-in keeps every document in its heap.
    const singleApi = await startNode(funnelNode('api', 'api', await freePort(), STAGES.single));
    const contenders = { http: bareHttp.url, nest: bareNest.url, funnel: singleApi.url } as const;
    type Contender = keyof typeof contenders;
    const order: Contender[] = ['http', 'nest', 'funnel'];
    // Funnel's api (and the broker behind it) kept speeding up for about half a minute of full load: with an
    // 8 s warm-up its rounds went 0.44 → 0.62, 0.49 → 0.94 and 0.45 → 0.74 × L_http within one run.
    for (const name of order) await loadtest(pin, tmp, single(contenders[name], PLAN.warmS));
    rounds = [];
    for (let i = 0; i < PLAN.reps; i++) {
      const round = { http: 0, nest: 0, funnel: 0 };
      for (const name of [...order.slice(i % 3), ...order.slice(0, i % 3)]) {
        round[name] = (await loadtest(pin, tmp, single(contenders[name], PLAN.loadS))).ingest.requestsPerSec;
      }
      rounds.push(round);
      log(
        `single-reading round ${i + 1}: L_http ${Math.round(round.http)}, L_nest ${Math.round(round.nest)}, ` +
          `Funnel ${Math.round(round.funnel)} req/s = ${(round.funnel / round.http).toFixed(2)} × L_http`,
      );
    }
    await bareHttp.stop();
    await bareNest.stop();
    const of = (pick: (r: Record<Contender, number>) => number) => median(rounds.map(pick));
    const lHttp = of((r) => r.http);
    const lNest = of((r) => r.nest);
    singleRate = of((r) => r.funnel);
    // Paced evenly (one request every 2/singleRate s, latency from each request's due time: see the load
    // tool's pacing.ts), measured after a warm-up of the generator's own (a fresh process) at that rate.
    half = await loadtest(
      pin,
      tmp,
      single(singleApi.url, PLAN.halfS, [
        `--rate=${Math.max(1, Math.round(singleRate / 2))}`,
        `--warmup=${PLAN.halfWarmS}`,
      ]),
    );
    log(
      `Funnel single paced at ${Math.round(singleRate / 2)}/s for ${PLAN.halfS} s: ` +
        `p50 ${half.ingest.latencyMs.p50}, p99 ${half.ingest.latencyMs.p99}, p99.9 ${half.ingest.latencyMs.p999} ms`,
    );

    apiPeaks.push(singleApi.sampleMemory()?.peakMb ?? 0);
    await stopNode(singleApi);
    await mongo.db(STAGES.single.db).dropDatabase();

    Object.assign(figures, {
      lHttpReqPerSec: lHttp,
      lNestReqPerSec: lNest,
      singleRatioOfRounds: of((r) => r.funnel / r.http),
      nestRatioOfRounds: of((r) => r.nest / r.http),
      singleToNestOfRounds: of((r) => r.funnel / r.nest),
      singleRounds: rounds.length,
      singleReqPerSec: singleRate,
      singleP99AtHalfMs: half.ingest.latencyMs.p99,
    });
  }

  if (ran.has('batched')) {
    // ---- Batched end to end at the sustained target, then at half of the end-to-end rate that run measured
    // (for freshness and lag where the pipeline is not over its capacity, when the target is).
    atTarget = await batchedStage('target', STAGES.ingest, BATCHED_RATE, PLAN.batchedS);
    const sustainedRate = Math.min(
      BATCHED_RATE,
      Math.max(1000, Math.round((0.5 * atTarget.batchedRate) / 1000) * 1000),
    );
    sustained = await batchedStage('sustained', STAGES.sustained, sustainedRate, Math.ceil(PLAN.batchedS / 2));
    const { batched, batchedRate } = atTarget;
    apiPeaks.push(atTarget.apiPeak, sustained.apiPeak);

    Object.assign(figures, {
      batchedReadingsPerSec: batchedRate,
      batchedDurationS: batched.ingest.elapsedS,
      batchedLagFlat: atTarget.lagFlat,
      batchedLagMaxRecords: atTarget.lagMax,
      batchedFreshnessP99Ms: atTarget.freshnessP99Ms,
      sustainedOfferedPerSec: sustained.rate,
      sustainedReadingsPerSec: sustained.batchedRate,
      sustainedLagFlat: sustained.lagFlat,
      sustainedFreshnessP99Ms: sustained.freshnessP99Ms,
      cpuMicrosPerReading: atTarget.cpuPerReading,
      cpuAllMicrosPerReading: atTarget.cpuAllPerReading,
      batchedOfferedPerSec: BATCHED_RATE,
    });
  }

  if (ran.has('backlog')) {
    // ---- Backlog: worker stopped, the api takes PLAN.backlog readings of one sensor; a fresh worker drains them.
    const backlogApi = await startNode(funnelNode('api-backlog', 'api', await freePort(), STAGES.backlog));
    const aggSensor = `${rid}-agg`;
    const step = 57;
    const aggEnd = Math.floor((Date.now() - 120_000) / 60_000) * 60_000;
    const aggStart = aggEnd - PLAN.backlog * step;
    let sent = 0;
    const poster = async () => {
      while (sent < PLAN.backlog) {
        const from = sent;
        sent = Math.min(PLAN.backlog, sent + BACKLOG_BODY);
        const body = JSON.stringify(
          Array.from({ length: sent - from }, (_, i) => ({
            sensorId: aggSensor,
            metric: 'value',
            value: ((from + i) % 20000) / 100 - 50,
            ts: aggStart + (from + i) * step,
          })),
        );
        const res = await fetch(`${backlogApi.url}/v1/points`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
          body,
        });
        if (res.status !== 202) throw new Error(`backlog POST answered ${res.status}: ${await res.text()}`);
      }
    };
    await Promise.all([poster(), poster(), poster(), poster()]);
    const backlogStart = await lag(STAGES.backlog);
    log(`backlog of ${PLAN.backlog} readings in Kafka (${backlogStart.end - backlogStart.committed} records)`);
    const worker = funnelNode('worker-drain', 'worker', await freePort(), STAGES.backlog);
    await startNode(worker);
    let firstProgress: { t: number; committed: number } | undefined;
    let last = backlogStart;
    const drainDeadline = Date.now() + 15 * 60_000;
    while (Date.now() < drainDeadline) {
      last = await lag(STAGES.backlog);
      worker.sampleMemory();
      if (!firstProgress && last.committed > backlogStart.committed)
        firstProgress = { t: performance.now(), committed: last.committed };
      if (last.committed >= last.end) break;
      await sleep(200);
    }
    const drainedAt = performance.now();
    const drainRate = firstProgress
      ? ((last.committed - firstProgress.committed) * FUNNEL.pointsPerRecord) / ((drainedAt - firstProgress.t) / 1000)
      : 0;
    const workerPeak = memoryOf(worker.pid!)?.peakMb ?? worker.peakMb;
    const drainMetrics = await scrape(worker.url);
    const flushRate =
      drainMetrics.sum('funnel_readings_written_total') / drainMetrics.sum('funnel_flush_duration_seconds_sum');
    log(
      `drain ${Math.round(drainRate)} docs/s wall, ${Math.round(flushRate)} docs/s in flushes, worker peak ${Math.round(workerPeak)} MB`,
    );

    // ---- Aggregation over the backlog's sensor: Funnel's answer vs the same pipeline through the driver.
    const query = new URLSearchParams({
      sensorId: aggSensor,
      metric: 'value',
      from: new Date(aggStart - 60_000).toISOString(),
      to: new Date(aggEnd + 60_000).toISOString(),
      window: 'minute',
    });
    const funnelTimes: number[] = [];
    for (let i = 0; i < PLAN.aggReps; i++) {
      const t = performance.now();
      const res = await fetch(`${backlogApi.url}/v1/aggregates?${query}`, { headers: ADMIN_AUTH });
      const body = (await res.json()) as { buckets: Array<{ count: number }> };
      funnelTimes.push(performance.now() - t);
      const counted = body.buckets.reduce((s, b) => s + b.count, 0);
      if (counted !== PLAN.backlog)
        throw new Error(`aggregation counted ${counted} readings, expected ${PLAN.backlog}`);
    }
    // The same query straight through the driver: the server's share of Funnel's answer time. The range is
    // minute-aligned, so Funnel answers it from the minute rollups alone; the raw pipeline over the readings
    // is timed too, as what the answer would cost without rollups.
    const bucketQuery = {
      sensorId: aggSensor,
      metric: 'value',
      from: aggStart - 60_000,
      to: aggEnd + 60_000,
      binMs: 60_000,
    };
    const timed = async (collection: string, pipeline: object[]) => {
      const times: number[] = [];
      for (let i = 0; i < PLAN.aggReps; i++) {
        const t = performance.now();
        await mongo.db().collection(collection).aggregate(pipeline).toArray();
        times.push(performance.now() - t);
      }
      return times;
    };
    // The minute documents the tiers hold for the range (the answer's documents; compaction has run by now).
    const minuteMatch = {
      $match: { s: aggSensor, m: 'value', ts: { $gte: new Date(bucketQuery.from), $lt: new Date(bucketQuery.to) } },
    };
    const serverTimes = await timed('points_m1', [minuteMatch]);
    const rawTimes = await timed('points', bucketsPipeline(bucketQuery));
    const rollupDocs =
      (await mongo.db().collection('points_m1').countDocuments(minuteMatch.$match)) +
      (await mongo.db().collection('points_slices').countDocuments({ s: aggSensor }));
    log(
      `aggregation Funnel ${funnelTimes.map(Math.round).join(', ')} ms; minute-tier read via driver ${serverTimes.map(Math.round).join(', ')} ms over ${rollupDocs} rollups; raw pipeline via driver ${rawTimes.map(Math.round).join(', ')} ms`,
    );

    await stopNode(worker);
    await stopNode(backlogApi);
    await mongo.db(STAGES.backlog.db).dropDatabase();
    collectStoreGarbage();

    Object.assign(figures, {
      workerFlushDocsPerSec: flushRate,
      workerDrainDocsPerSec: drainRate,
      backlogReadings: PLAN.backlog,
      workerPeakRssMb: workerPeak,
      aggregationReadings: PLAN.backlog,
      aggregationFunnelMs: median(funnelTimes),
      aggregationServerMs: median(serverTimes),
      aggregationRawServerMs: median(rawTimes),
      aggregationRollupDocs: rollupDocs,
    });
  }

  if (ran.has('tiers')) {
    // ---- Rollup tiers (tiers.ts): a year of one series, and a day of 1,000 series.
    const tierStages = { year: STAGES.tiersYear, fleet: STAGES.tiersFleet };
    const tiers = await tiersStage(
      {
        start: async (name, role, part) => startNode(funnelNode(name, role, await freePort(), tierStages[part])),
        stop: stopNode,
        db: (part) => mongo.db(tierStages[part].db),
        log,
      },
      TIERS_PLAN[smoke ? 'smoke' : quick ? 'quick' : 'full'],
      rid,
    );
    // Its figures are taken: its millions of documents must not crowd the stand-in's heap under the stages after
    // it (kept, the query stage's fleet answer ran at 1.6 s instead of 0.7 s on a collecting server).
    for (const part of ['year', 'fleet'] as const) await mongo.db(tierStages[part].db).dropDatabase();
    collectStoreGarbage();

    figures.tiers = tiers;
  }

  if (ran.has('queries')) {
    // ---- The query API (queries.ts): 1,000 series by site, a year in Berlin months, dashboards under ingest.
    figures.queries = await queriesStage(
      {
        start: async (name, role, env = {}) => {
          const node = funnelNode(name, role, await freePort(), STAGES.queries);
          Object.assign(node.env, env);
          return startNode(node);
        },
        stop: stopNode,
        db: () => mongo.db(STAGES.queries.db),
        log,
        pipelineReadingsPerSec: atTarget?.batchedRate,
      },
      QUERIES_PLAN[smoke ? 'smoke' : quick ? 'quick' : 'full'],
      rid,
    );
    collectStoreGarbage();
  }

  if (ran.has('formats')) {
    // ---- The ingest formats (formats.ts): the same readings as JSON, line protocol, gzip'd, and via the
    // InfluxDB client library, each to a fresh api and worker; stored/s and CPU per reading.
    const formatStage = (part: FormatRun): Stage => ({
      topic: `bench.formats-${part}.${rid}`,
      groupId: `bench-formats-${part}-${rid}`,
      db: `${funnelDb}_formats_${part}`,
    });
    figures.formats = await formatsStage(
      {
        start: async (name, role, part) => startNode(funnelNode(name, role, await freePort(), formatStage(part))),
        stop: stopNode,
        lag: (part) => lag(formatStage(part)),
        stored: (part) => mongo.db(formatStage(part).db).collection('points').countDocuments({}),
        drop: async (part) => {
          await mongo.db(formatStage(part).db).dropDatabase();
          collectStoreGarbage();
        },
        cpuMicros,
        flushed: async (worker) => {
          const m = await scrape(worker.url);
          return { flushes: m.value('funnel_flushes_total'), written: m.value('funnel_readings_written_total') };
        },
        generate: async (job: FormatsJob) => {
          const child = startProcess(process.execPath, {
            prefix: pin.prefix('generator'),
            args: ['--import', REGISTER, 'test/bench/formats-load.ts', JSON.stringify(job)],
          });
          const { code } = await child.exited;
          const last = child.output().trim().split('\n').at(-1) ?? '';
          if (code !== 0 || !last.startsWith('{'))
            throw new Error(`formats-load ${job.format} exited ${code}:\n${child.output().slice(-2000)}`);
          return JSON.parse(last) as FormatsLoadResult;
        },
        token: TEST_ADMIN_TOKEN,
        log,
      },
      FORMATS_PLAN[smoke ? 'smoke' : quick ? 'quick' : 'full'],
      rid,
      flags.formats?.split(',').map((s) => s.trim()),
    );
  }

  // ---- The cluster stage (--cluster): the same batched run, the same paced single-reading rate and L_kafka
  // against a 3-node cluster (RF 3, min ISR 2, acks=all), beside the one-broker figures above.
  let cluster: Record<string, number | boolean | null> | undefined;
  if (ran.has('cluster')) {
    // Half of the one-broker api's rate when the single stage measured it (else a fixed 1,000/s).
    const pacedRate = Math.max(1, Math.round((singleRate ?? 2000) / 2));
    const nodes3 = await startKafkaCluster({
      basePort: CLUSTER_BASE_PORT,
      numPartitions: FUNNEL.partitions,
      log: (l: string) => log(`cluster: ${l}`),
    });
    const clusterAdmin = new Kafka({
      clientId: `bench-${rid}-cluster`,
      brokers: nodes3.brokers.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await clusterAdmin.connect();
      const clusterTopic = `bench.kafka-cluster.${rid}`;
      // The brokers' defaults: replication factor 3, min.insync.replicas 2.
      await clusterAdmin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: clusterTopic, numPartitions: FUNNEL.partitions }],
      });
      const clusterKafkaRates = await producerPerformance(nodes3.brokers, clusterTopic, recordBytes);
      const onCluster = { brokers: nodes3.brokers, admin: clusterAdmin, kafkaPids: () => nodes3.pids };
      const clusterBatched = await batchedStage(
        'cluster',
        { topic: `bench.cluster.${rid}`, groupId: `bench-cluster-${rid}`, db: `${funnelDb}_cluster`, ...onCluster },
        BATCHED_RATE,
        PLAN.batchedS,
      );
      const clusterSingleStage = {
        topic: `bench.cluster-single.${rid}`,
        groupId: `bench-cluster-single-${rid}`,
        db: `${funnelDb}_cluster_single`,
        ...onCluster,
      };
      const clusterApi = await startNode(funnelNode('api-cluster', 'api', await freePort(), clusterSingleStage));
      // Warmed as the one-broker api was (its warm-up round), so that the p99s compare like with like.
      await loadtest(pin, tmp, single(clusterApi.url, PLAN.warmS));
      const clusterHalf = await loadtest(
        pin,
        tmp,
        single(clusterApi.url, PLAN.halfS, [`--rate=${pacedRate}`, `--warmup=${PLAN.halfWarmS}`]),
      );
      await stopNode(clusterApi);
      await mongo.db(clusterSingleStage.db).dropDatabase();
      const clusterKafkaMB = median(clusterKafkaRates);
      cluster = {
        lKafkaMBPerSec: clusterKafkaMB,
        lKafkaReadingsPerSec: ((clusterKafkaMB * 1024 * 1024) / recordBytes) * FUNNEL.pointsPerRecord,
        batchedReadingsPerSec: clusterBatched.batchedRate,
        batchedLagFlat: clusterBatched.lagFlat,
        batchedFreshnessP99Ms: clusterBatched.freshnessP99Ms,
        singleP99AtHalfMs: clusterHalf.ingest.latencyMs.p99,
        singlePacedPerSec: pacedRate,
        cpuAllMicrosPerReading: clusterBatched.cpuAllPerReading,
      };
      log(`cluster L_kafka ${clusterKafkaRates.join(', ')} MB/s; single p99 ${clusterHalf.ingest.latencyMs.p99} ms`);
    } finally {
      await clusterAdmin.disconnect().catch(() => undefined);
      await nodes3.stop(15_000);
    }
  }

  if (apiPeaks.length) figures.apiPeakRssMb = Math.max(...apiPeaks);
  const targets = evaluateTargets(figures, quick, ran);
  const header = [
    `Funnel bench ${smoke ? '--smoke' : quick ? '--quick' : '(full)'} ${new Date(started).toISOString()} run ${rid}, ${Math.round((Date.now() - started) / 1000)} s; stages ${[...ran].join(', ')}`,
    `machine: ${os.cpus().length} CPUs, load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}, at end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; pinning: ${pin.description}`,
    `reps ${PLAN.reps} (medians) after warm-up; single-reading ${SINGLE_CONNECTIONS} connections; batched ${BATCH}/request, ${BATCHED_CONNECTIONS} connections, ${PLAN.batchedS} s; Kafka ${brokers} (shared), MongoDB stand-in of the bench's own`,
  ];
  process.stdout.write(`${formatTable(figures, targets, header, ran)}\n`);
  if (cluster) {
    const n = (v: unknown) => (typeof v === 'number' ? Math.round(v).toLocaleString('en-US') : String(v));
    process.stdout.write(
      [
        '',
        'one broker vs 3-node cluster (RF 3, min ISR 2, acks=all), same run:',
        `L_kafka ProducerPerformance         ${n(lKafkaReadings)} vs ${n(cluster.lKafkaReadingsPerSec)} readings/s (${lKafkaMB.toFixed(1)} vs ${Number(cluster.lKafkaMBPerSec).toFixed(1)} MB/s)`,
        `Funnel batched end to end           ${n(atTarget?.batchedRate)} vs ${n(cluster.batchedReadingsPerSec)} readings/s of ${n(BATCHED_RATE)}/s offered`,
        `single-reading p99 at ${n(cluster.singlePacedPerSec)}/s       ${n(half?.ingest.latencyMs.p99)} vs ${cluster.singleP99AtHalfMs} ms`,
        `CPU per reading, whole pipeline     ${n(atTarget?.cpuAllPerReading)} vs ${n(cluster.cpuAllMicrosPerReading)} µs`,
        '',
      ].join('\n'),
    );
  }
  if (flags.json) {
    await writeFile(
      flags.json,
      `${JSON.stringify({ run: rid, quick, smoke, stages: [...ran], startedAt: new Date(started).toISOString(), loadAtStart, pinning: pin.description, plan: PLAN, figures, cluster, targets, raw: { singleRounds: rounds, mongoCeiling: ceilingRates, kafkaMBPerSec: kafkaRates, lagSamples: atTarget?.lagSamples, batched: atTarget?.batched, half, sustained: sustained && { batched: sustained.batched, lagSamples: sustained.lagSamples } } }, null, 2)}\n`,
    );
  }
  if (flags.profile) log(`CPU profiles in ${profDir}`);
  process.exitCode = 0;
} catch (error) {
  log(`failed: ${(error as Error).stack}`);
  for (const node of nodes) log(`${node.name} log tail:\n${node.tail(20)}`);
  process.exitCode = 1;
} finally {
  for (const node of nodes) if (node.running) await node.terminate();
  const mine = (await admin.listTopics()).filter((t) => t.includes(rid));
  if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  await admin.disconnect();
  await mongo.close();
  await mongoServer.stop();
  await infra.stopAll();
  await rm(tmp, { recursive: true, force: true });
  if (flags.profile) await mkdir(profDir, { recursive: true });
}
