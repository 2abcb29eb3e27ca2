// A store with a known capacity (MONGODB_CAPACITY_DOCS) fills without losing anything: the worker warns once at
// 80 %, stops writing at the limit and says why, the api answers 503 once the unstored backlog passes its
// bound, and a worker restarted with room stores every acknowledged reading exactly once.
import { afterAll, describe, expect, it } from '@jest/globals';

import { pollUntil, Scrape } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess, type FunnelRole } from './support/funnel-process.js';
import { getJson, postJson, type ApiAnswer, type JsonAnswer, type ReadinessAnswer } from './support/http.js';
import { storedCount, withMongo } from './support/mongo.js';

const CAPACITY = 300;
/** One request is one Kafka record of this many readings (KAFKA_POINTS_PER_RECORD). */
const PER_REQUEST = 20;
const BACKLOG_BOUND = 5;
const REASON = /^local store full: \d+ readings; set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW$/;
/** The worker's 80 % warning line (StoreGate). */
const WARNING = /local store \d+ % full: \d+ of 300 documents/g;

interface Reading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
}

describe('a store at its capacity', () => {
  const env: Record<string, string> = {
    ...isolatedEnv('store-limits'),
    KAFKA_TOPIC_PARTITIONS: '1',
    KAFKA_POINTS_PER_RECORD: String(PER_REQUEST),
    STORE_FULL_BACKLOG_RECORDS: String(BACKLOG_BOUND),
  };
  const started: FunnelProcess[] = [];
  const start = async (role: FunnelRole, extra: Record<string, string>) => {
    const funnel = (await FunnelProcess.onFreePort(role, { ...env, ...extra })).start();
    started.push(funnel);
    await funnel.waitReady();
    return funnel;
  };
  // One series inside one minute: a single rollup document, so documents held are readings plus a few.
  const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  let next = 0;
  const acknowledged: Reading[] = [];
  const request = () =>
    Array.from({ length: PER_REQUEST }, () => {
      const value = next++;
      return { sensorId: 'cap-1', metric: 'm', value, ts: minute + value };
    });
  const post = (readings: Reading[]) => postJson(`${api.url}/v1/points`, readings);
  const ingest = async (requests: number) => {
    for (let i = 0; i < requests; i++) {
      const readings = request();
      const res = await post(readings);
      expect(res.status).toBe(202);
      acknowledged.push(...readings);
    }
  };
  const storedReadings = () => storedCount(env.MONGODB_URI!);
  const documentsHeld = () =>
    withMongo(env.MONGODB_URI!, async (db) => {
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      const counts = await Promise.all(collections.map((c) => db.collection(c.name).countDocuments()));
      return counts.reduce((sum, n) => sum + n, 0);
    });
  let api: FunnelProcess;

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  }, 60_000);

  it('stops at the limit loudly, refuses ingest past the backlog bound, and loses nothing', async () => {
    api = await start('api', { MONGODB_CAPACITY_DOCS: String(CAPACITY) });
    const worker = await start('worker', { MONGODB_CAPACITY_DOCS: String(CAPACITY) });

    // Under 80 %: stored, and no warning yet.
    await ingest(10);
    await pollUntil('the first 200 readings stored', async () => (await storedReadings()) === 200);
    expect(worker.output().match(WARNING) ?? []).toHaveLength(0);

    // Past the capacity: the worker fills what fits and stops.
    await ingest(6);
    let readiness: JsonAnswer<ReadinessAnswer> | undefined;
    await pollUntil('worker readiness to report the full store', async () => {
      readiness = await getJson<ReadinessAnswer>(`${worker.url}/health/ready`);
      return readiness.status === 503 && readiness.json.details?.mongodb?.status === 'down';
    });
    expect(readiness!.json.details?.mongodb?.message).toMatch(REASON);
    const stored = await storedReadings();
    expect(stored).toBeLessThan(acknowledged.length);
    // Readings beyond the capacity are not stored, and it stopped only when not one more record fitted.
    expect(await documentsHeld()).toBeLessThanOrEqual(CAPACITY);
    expect((await documentsHeld()) + PER_REQUEST).toBeGreaterThan(CAPACITY);
    expect(worker.output().match(WARNING) ?? []).toHaveLength(1);
    expect((await Scrape.of(`${worker.url}/metrics`)).value('funnel_store_full')).toBe(1);

    // The backlog grows in Kafka (consumption is paused) until the api refuses with the reason.
    let refused: JsonAnswer<ApiAnswer> | undefined;
    await pollUntil(
      'the api to answer 503 once the backlog passes its bound',
      async () => {
        const readings = request();
        const res = await post(readings);
        if (res.status === 202) acknowledged.push(...readings);
        else refused = res;
        return res.status === 503;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(acknowledged.length / PER_REQUEST - stored / PER_REQUEST).toBeGreaterThan(BACKLOG_BOUND);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused!.json.message).toMatch(REASON);
    expect(await storedReadings()).toBe(stored);

    // Restarted with room, the worker stores every acknowledged reading exactly once.
    await worker.stop();
    const roomy = await start('worker', { MONGODB_CAPACITY_DOCS: '100000' });
    await pollUntil('every acknowledged reading stored', async () => (await storedReadings()) >= acknowledged.length, {
      timeoutMs: 60_000,
    });
    // With the backlog drained the api takes readings again.
    await pollUntil('the api to accept again', async () => {
      const readings = request();
      const res = await post(readings);
      if (res.status === 202) acknowledged.push(...readings);
      return res.status === 202;
    });
    await pollUntil('the last request stored', async () => (await storedReadings()) >= acknowledged.length);
    const docs = await withMongo(env.MONGODB_URI!, (db) =>
      db
        .collection('points')
        .find({}, { projection: { _id: 0, value: 1 } })
        .toArray(),
    );
    const values = docs.map((d) => d.value as number).sort((a, b) => a - b);
    expect(values).toEqual(acknowledged.map((r) => r.value).sort((a, b) => a - b));
    expect((await Scrape.of(`${roomy.url}/metrics`)).value('funnel_store_full')).toBe(0);
  }, 240_000);
});
