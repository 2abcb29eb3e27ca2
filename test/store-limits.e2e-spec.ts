// A store with a known capacity (MONGODB_CAPACITY_DOCS) fills without losing anything: the worker warns once at
// 80 %, stops writing at the limit and says why, the api answers 503 once the unstored backlog passes its
// bound, and a worker restarted with room stores every acknowledged reading exactly once.
import { afterAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil, Scrape } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { freePort, FunnelProcess } from './support/funnel-process.js';

const CAPACITY = 300;
/** One request is one Kafka record of this many readings (KAFKA_POINTS_PER_RECORD). */
const PER_REQUEST = 20;
const BACKLOG_BOUND = 5;
const REASON = /^local store full: \d+ readings; set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW$/;
/** The worker's 80 % warning line (StoreGate). */
const WARNING = /local store \d+ % full: \d+ of 300 documents/g;

interface Readiness {
  details?: { mongodb?: { status: string; message?: string } };
}

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
  const start = async (extra: Record<string, string>, portKey: 'PORT' | 'WORKER_PORT') => {
    const port = await freePort();
    const funnel = new FunnelProcess({ ...env, ...extra, [portKey]: String(port) }, port).start();
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
  const post = (readings: Reading[]) =>
    fetch(`${api.url}/v1/points`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(readings),
    });
  const ingest = async (requests: number) => {
    for (let i = 0; i < requests; i++) {
      const readings = request();
      const res = await post(readings);
      expect(res.status).toBe(202);
      acknowledged.push(...readings);
    }
  };
  const mongo = new MongoClient(env.MONGODB_URI!, { serverSelectionTimeoutMS: 5000 });
  const db = () => mongo.db();
  const storedReadings = () => db().collection('points').countDocuments();
  const documentsHeld = async () => {
    const collections = await db().listCollections({}, { nameOnly: true }).toArray();
    const counts = await Promise.all(collections.map((c) => db().collection(c.name).countDocuments()));
    return counts.reduce((sum, n) => sum + n, 0);
  };
  let api: FunnelProcess;

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await mongo.close();
  }, 60_000);

  it('stops at the limit loudly, refuses ingest past the backlog bound, and loses nothing', async () => {
    api = await start({ FUNNEL_ROLE: 'api', MONGODB_CAPACITY_DOCS: String(CAPACITY) }, 'PORT');
    const worker = await start({ FUNNEL_ROLE: 'worker', MONGODB_CAPACITY_DOCS: String(CAPACITY) }, 'WORKER_PORT');

    // Under 80 %: stored, and no warning yet.
    await ingest(10);
    await pollUntil('the first 200 readings stored', async () => (await storedReadings()) === 200);
    expect(worker.output().match(WARNING) ?? []).toHaveLength(0);

    // Past the capacity: the worker fills what fits and stops.
    await ingest(6);
    let readiness: { status: number; body: Readiness } | undefined;
    await pollUntil('worker readiness to report the full store', async () => {
      const res = await fetch(`${worker.url}/health/ready`);
      readiness = { status: res.status, body: (await res.json()) as Readiness };
      return res.status === 503 && readiness.body.details?.mongodb?.status === 'down';
    });
    expect(readiness!.body.details?.mongodb?.message).toMatch(REASON);
    const stored = await storedReadings();
    expect(stored).toBeLessThan(acknowledged.length);
    // Readings beyond the capacity are not stored, and it stopped only when not one more record fitted.
    expect(await documentsHeld()).toBeLessThanOrEqual(CAPACITY);
    expect((await documentsHeld()) + PER_REQUEST).toBeGreaterThan(CAPACITY);
    expect(worker.output().match(WARNING) ?? []).toHaveLength(1);
    expect((await Scrape.of(`${worker.url}/metrics`)).value('funnel_store_full')).toBe(1);

    // The backlog grows in Kafka (consumption is paused) until the api refuses with the reason.
    let refused: Response | undefined;
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
    expect(((await refused!.json()) as { message: string }).message).toMatch(REASON);
    expect(await storedReadings()).toBe(stored);

    // Restarted with room, the worker stores every acknowledged reading exactly once.
    await worker.stop();
    const roomy = await start({ FUNNEL_ROLE: 'worker', MONGODB_CAPACITY_DOCS: '100000' }, 'WORKER_PORT');
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
    const docs = await db()
      .collection('points')
      .find({}, { projection: { _id: 0, value: 1 } })
      .toArray();
    const values = docs.map((d) => d.value as number).sort((a, b) => a - b);
    expect(values).toEqual(acknowledged.map((r) => r.value).sort((a, b) => a - b));
    expect((await Scrape.of(`${roomy.url}/metrics`)).value('funnel_store_full')).toBe(0);
  }, 240_000);
});
