import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { expectedBuckets, makeReadings, type Reading } from './support/dataset.js';
import { ADMIN_AUTH, isolatedEnv, settingDefault } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer, type Bucket, type ReadinessAnswer } from './support/http.js';
import { testKafka, workerCaughtUp } from './support/kafka.js';
import { storedCount, tierTotals, withMongo } from './support/mongo.js';
import { send } from './support/raw-http.js';

const HOUR = 3_600_000;
// Whole-minute windows are answered from the minute rollups (raw readings for the partial minutes at the
// edges of an unaligned range); 30s from raw readings only.
const WINDOWS: Record<string, number> = { minute: 60_000, hour: HOUR, day: 24 * HOUR, '5m': 300_000, '30s': 30_000 };
const SENSORS = ['boiler-1', 'boiler-2', 'pump.7'];
const METRICS = ['temperature', 'pressure'];
// 30 hours ending an hour ago: crosses day boundaries and stays inside the future-skew limit.
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - 30 * HOUR;
const READINGS = makeReadings({
  seed: 42,
  sensors: SENSORS,
  metrics: METRICS,
  start: START,
  spanMs: END - START,
  perSeries: 400,
});
// A range that cuts through buckets at both ends, to check from-inclusive / to-exclusive.
const FROM = START + 17 * 60_000 + 123;
const TO = END - 2 * HOUR + 7_000;

/** The parts of the OpenAPI document this test reads. */
interface OpenApiDoc {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, { properties: Record<string, { example?: unknown }> }> };
}

/** POSTs every reading in shuffled batches; each must be acknowledged with its exact count. */
async function ingestAll(api: string, readings: Reading[]): Promise<void> {
  const shuffled = [...readings].sort((a, b) => ((a.ts * 7 + a.value) % 13) - ((b.ts * 7 + b.value) % 13));
  for (let i = 0; i < shuffled.length; i += 500) {
    const batch = shuffled.slice(i, i + 500);
    const res = await postJson(`${api}/v1/points`, batch);
    expect(res).toMatchObject({ status: 202, json: { accepted: batch.length } });
  }
}

/** Readings counted by the minute tier (compacted minutes plus slices not compacted yet), and its documents. */
async function rollupTotals(mongoUri: string): Promise<{ docs: number; n: number }> {
  const t = await withMongo(mongoUri, tierTotals);
  return { docs: t.minuteDocs + t.slices, n: t.minuteN + t.pendingN };
}

/**
 * Every reading stored and counted by the rollups. A flush writes its rollups just after its readings, so a
 * stored count alone can be reached a moment before whole-minute aggregates include the last flush.
 */
async function allWritten(mongoUri: string, readings: number): Promise<boolean> {
  return (await storedCount(mongoUri)) === readings && (await rollupTotals(mongoUri)).n === readings;
}

async function aggregates(api: string, q: Record<string, string | number>) {
  const qs = new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)] as [string, string]));
  return getJson<AggregatesAnswer>(`${api}/v1/aggregates?${qs}`);
}

function expectBucketsToMatch(actual: Bucket[], expected: ReturnType<typeof expectedBuckets>) {
  expect(actual.map((b) => b.start)).toEqual(expected.map((b) => b.start));
  actual.forEach((b, i) => {
    const e = expected[i];
    expect({ start: b.start, count: b.count, min: b.min, max: b.max }).toEqual({
      start: e.start,
      count: e.count,
      min: e.min,
      max: e.max,
    });
    expect(b.sum).toBeCloseTo(e.sum, 6);
    expect(b.avg).toBeCloseTo(e.avg, 9);
  });
}

function parseWindowForTest(window: string): number {
  const named: Record<string, number> = { minute: 60_000, hour: HOUR, day: 24 * HOUR };
  if (named[window]) return named[window];
  const m = /^(\d+)(s|m|h)$/.exec(window)!;
  return Number(m[1]) * { s: 1000, m: 60_000, h: HOUR }[m[2] as 's' | 'm' | 'h'];
}

/** Answers of the `all` role, to compare the split api + worker deployment against. */
const allRoleAnswers = new Map<string, Bucket[]>();

describe('pipeline end to end, role "all" (one process)', () => {
  const env = isolatedEnv('all');
  let funnel: FunnelProcess;

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', env)).start();
    await funnel.waitReady();
  }, 90_000);

  afterAll(async () => {
    await funnel?.stop();
  }, 40_000);

  it('acknowledges every reading with 202 and stores all of them within a few flush intervals', async () => {
    await ingestAll(funnel.url, READINGS);
    await pollUntil('all readings stored, and rolled up', async () => allWritten(env.MONGODB_URI, READINGS.length));
    // And no more than that once every record is committed: nothing was written twice.
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI)).toBe(READINGS.length);
  }, 120_000);

  it.each(Object.keys(WINDOWS))(
    'aggregates per %s equal an independent calculation, for every series',
    async (window) => {
      for (const sensorId of SENSORS) {
        for (const metric of METRICS) {
          const res = await aggregates(funnel.url, {
            sensorId,
            metric,
            from: new Date(FROM).toISOString(),
            to: TO,
            window,
          });
          expect(res.status).toBe(200);
          expect(res.json).toMatchObject({
            sensorId,
            metric,
            window,
            from: new Date(FROM).toISOString(),
            to: new Date(TO).toISOString(),
          });
          const expected = expectedBuckets(READINGS, { sensorId, metric, from: FROM, to: TO, binMs: WINDOWS[window] });
          expect(expected.length).toBeGreaterThan(0);
          expectBucketsToMatch(res.json.buckets, expected);
          allRoleAnswers.set(`${sensorId}/${metric}/${window}`, res.json.buckets);
        }
      }
    },
    60_000,
  );

  it('keeps minute rollups of exactly the stored readings', async () => {
    const totals = await rollupTotals(env.MONGODB_URI);
    expect(totals.n).toBe(READINGS.length);
    expect(totals.docs).toBeGreaterThan(0);
  }, 30_000);

  it.each(['minute', 'hour', '15m', 'day'])(
    'aggregates per %s over a minute-aligned range (rollups only) equal an independent calculation',
    async (window) => {
      const binMs = parseWindowForTest(window);
      const from = START + 60_000 * 7;
      const to = END - 60_000 * 11;
      for (const sensorId of SENSORS) {
        for (const metric of METRICS) {
          const res = await aggregates(funnel.url, { sensorId, metric, from, to, window });
          expect(res.status).toBe(200);
          const expected = expectedBuckets(READINGS, { sensorId, metric, from, to, binMs });
          expect(expected.length).toBeGreaterThan(0);
          expectBucketsToMatch(res.json.buckets, expected);
        }
      }
    },
    60_000,
  );

  it('aggregates over ranges with partial minutes at one edge, or inside one minute, equal an independent calculation', async () => {
    const sensorId = SENSORS[0];
    const metric = METRICS[1];
    // Readings right at the edges of the minutes these ranges cut through.
    const sorted = READINGS.filter((r) => r.sensorId === sensorId && r.metric === metric).map((r) => r.ts);
    sorted.sort((a, b) => a - b);
    const inside = sorted[Math.floor(sorted.length / 3)];
    const ranges: [number, number, string][] = [
      [inside, END, 'hour'], // unaligned from, aligned to
      [START, inside + 1, 'minute'], // aligned from, unaligned to (the reading at `inside` is in)
      [inside - (inside % 60_000), inside + 1, 'minute'], // less than a whole minute
      [inside, inside + 1, '5m'], // one millisecond, one reading
      [inside + 1, inside + 90_000, 'minute'], // 1.5 minutes, one minute boundary
    ];
    for (const [from, to, window] of ranges) {
      const res = await aggregates(funnel.url, { sensorId, metric, from, to, window });
      expect(res.status).toBe(200);
      const expected = expectedBuckets(READINGS, { sensorId, metric, from, to, binMs: parseWindowForTest(window) });
      expectBucketsToMatch(res.json.buckets, expected);
    }
  }, 30_000);

  it('rejects a batch with invalid readings with 400 listing every problem, and stores none of it', async () => {
    const ghost = 'ghost-sensor';
    const batch: unknown[] = [
      { sensorId: ghost, metric: 'm', value: 1 },
      { sensorId: ghost, metric: 'm', value: 'hot' },
      { sensorId: ghost, metric: 'm', value: 2 },
      { sensorId: 'bad id', metric: 'm', value: 3, extra: true },
      { sensorId: ghost, metric: 'm', value: 4, ts: Date.now() + 3_600_000 },
    ];
    const res = await postJson(`${funnel.url}/v1/points`, batch);
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('3 of 5 readings are invalid');
    const problems = res.json.errors!.map((e) => `${e.index}:${e.field}`).sort();
    expect(problems).toEqual(['1:value', '3:extra', '3:sensorId', '4:ts']);

    // A later valid request is stored; by then the rejected one would have been too, had it reached Kafka.
    const marker = { sensorId: 'marker', metric: 'm', value: 1 };
    expect((await postJson(`${funnel.url}/v1/points`, marker)).status).toBe(202);
    await pollUntil(
      'marker stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'marker' })) === 1,
    );
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': ghost })).toBe(0);
  }, 60_000);

  it('answers malformed, oversized and non-JSON requests with the documented 4xx', async () => {
    const url = `${funnel.url}/v1/points`;
    expect((await postJson(url, '{"sensorId": "a", ')).status).toBe(400);
    expect((await postJson(url, [])).json.errors?.[0]).toMatchObject({ index: -1 });
    expect((await postJson(url, [])).status).toBe(400);
    const text = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...ADMIN_AUTH },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    const huge = JSON.stringify([{ sensorId: 's', metric: 'm', value: 1, tags: { pad: 'x'.repeat(200) } }]).padEnd(
      settingDefault('MAX_BODY_BYTES') + 1024 * 1024,
      ' ',
    );
    // The app answers 413 and closes while the body is still being written: read that answer off a socket.
    const oversized = await send(funnel.url, {
      method: 'POST',
      path: '/v1/points',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(huge),
    });
    expect({ status: oversized.status, error: oversized.error }).toEqual({ status: 413, error: undefined });
    const tooMany = Array.from({ length: settingDefault('MAX_POINTS_PER_REQUEST') + 1 }, () => ({
      sensorId: 's',
      metric: 'm',
      value: 1,
    }));
    const many = await postJson(url, tooMany);
    expect(many.status).toBe(413);
    expect(many.json.message).toContain('MAX_POINTS_PER_REQUEST');
  }, 30_000);

  it('rejects bad aggregate queries with 400 and the reason', async () => {
    const base = { sensorId: 'boiler-1', metric: 'temperature', from: START, to: END, window: 'hour' };
    const missing = await aggregates(funnel.url, { sensorId: 'boiler-1', metric: 'temperature', from: START, to: END });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json.message)).toContain('window');
    const reversed = await aggregates(funnel.url, { ...base, from: END, to: START });
    expect(reversed.status).toBe(400);
    expect(reversed.json.message).toContain('must be before');
    const malformed = await aggregates(funnel.url, { ...base, window: '5 minutes' });
    expect(malformed.status).toBe(400);
    const tooMany = await aggregates(funnel.url, { ...base, from: 0, to: 86_400_000 * 365, window: '1s' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.message).toContain('MAX_BUCKETS');
    const badDate = await aggregates(funnel.url, { ...base, from: 'yesterday' });
    expect(badDate.status).toBe(400);
  }, 30_000);

  it('serves liveness, readiness with every dependency, Swagger UI and the OpenAPI document', async () => {
    expect((await fetch(`${funnel.url}/health/live`)).status).toBe(200);
    const ready = await fetch(`${funnel.url}/health/ready`);
    expect(ready.status).toBe(200);
    expect((await ready.json()) as object).toMatchObject({
      status: 'ok',
      info: { mongodb: { status: 'up' }, kafkaProducer: { status: 'up' }, kafkaConsumer: { status: 'up' } },
    });
    const docs = await fetch(`${funnel.url}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toContain('text/html');
    const openapi = (await getJson<OpenApiDoc>(`${funnel.url}/docs-json`)).json;
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/points', '/v1/aggregates', '/health/ready']),
    );
    expect(openapi.components.schemas.PointDto.properties.sensorId.example).toBe('boiler-7');
  }, 30_000);
});

describe('pipeline end to end, api and worker as separate processes', () => {
  const env = isolatedEnv('split');
  let api: FunnelProcess;
  let worker: FunnelProcess;

  beforeAll(async () => {
    worker = (await FunnelProcess.onFreePort('worker', env)).start();
    api = (await FunnelProcess.onFreePort('api', env)).start();
    await Promise.all([worker.waitReady(), api.waitReady()]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  }, 40_000);

  it('each role reports ready on its own port with the dependencies it needs', async () => {
    const workerReady = (await getJson<ReadinessAnswer>(`${worker.url}/health/ready`)).json;
    expect(Object.keys(workerReady.info ?? {}).sort()).toEqual(['auth', 'kafkaConsumer', 'mongodb']);
    const apiReady = (await getJson<ReadinessAnswer>(`${api.url}/health/ready`)).json;
    expect(Object.keys(apiReady.info ?? {}).sort()).toEqual(['auth', 'kafkaProducer', 'mongodb']);
    // The worker serves probes only: no ingestion there.
    expect((await fetch(`${worker.url}/v1/points`, { method: 'POST' })).status).toBe(404);
  }, 30_000);

  it('gives the same aggregates as the single-process role, value for value', async () => {
    await ingestAll(api.url, READINGS);
    await pollUntil('all readings stored, and rolled up', async () => allWritten(env.MONGODB_URI, READINGS.length));
    expect(allRoleAnswers.size).toBe(SENSORS.length * METRICS.length * Object.keys(WINDOWS).length);
    for (const [key, expected] of allRoleAnswers) {
      const [sensorId, metric, window] = key.split('/');
      const res = await aggregates(api.url, { sensorId, metric, from: new Date(FROM).toISOString(), to: TO, window });
      expect(res.status).toBe(200);
      expectBucketsToMatch(res.json.buckets, expected);
    }
  }, 120_000);

  it('the api never joins a consumer group: only the worker group exists for this topic', async () => {
    const admin = testKafka('e2e-admin').admin();
    await admin.connect();
    try {
      const { groups } = await admin.listGroups();
      const ours = groups
        .map((g) => g.groupId)
        .filter((g) => g.includes(env.KAFKA_GROUP_ID) || g.includes('funnel-api'));
      expect(ours).toEqual([env.KAFKA_GROUP_ID]);
    } finally {
      await admin.disconnect();
    }
  }, 30_000);
});
