// Retention per tier on the stand-in (no TTL there: the worker's sweep) and the TTL definitions MongoDB would
// enforce: readings and rollups past their tier's retention are deleted, coarser tiers keep answering, a query
// that needs an expired tier is refused naming it, and readings past the rollups' retention are refused at ingest.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer } from './support/http.js';
import { readingsIn, tiersSettled } from './support/mongo.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TODAY = Math.floor(Date.now() / DAY) * DAY;
/** Readings 20, 5 and 1.5 days back and an hour back (whole hours past midnight, so each tier holds them). */
const AGES = [20 * DAY, 5 * DAY, 1.5 * DAY, HOUR];
const READINGS = AGES.flatMap((age, i) =>
  Array.from({ length: 5 }, (_, j) => ({
    id: `ret-${i}-${j}`,
    sensorId: 'ret-1',
    metric: 't',
    ts: Date.now() - age + j * 1000,
    value: i * 10 + j,
  })),
);
const RETENTION = { RETENTION_RAW: '1d', RETENTION_MINUTE: '3d', RETENTION_HOUR: '10d', RETENTION_DAY: 'forever' };

describe('retention per tier (sweep on the stand-in, TTL definitions for MongoDB)', () => {
  const base: Record<string, string> = { ...isolatedEnv('retention'), COMPACTION_INTERVAL_MS: '200' };
  const processes: FunnelProcess[] = [];
  let mongo: MongoClient;
  let api: FunnelProcess;

  const start = async (role: 'api' | 'worker', env: Record<string, string>) => {
    const p = (await FunnelProcess.onFreePort(role, env)).start();
    processes.push(p);
    await p.waitReady();
    return p;
  };

  beforeAll(async () => {
    mongo = new MongoClient(base.MONGODB_URI);
    // First kept forever: every tier holds every reading.
    const firstApi = await start('api', base);
    const worker = await start('worker', base);
    const res = await postJson(`${firstApi.url}/v1/points`, READINGS);
    expect(res.status).toBe(202);
    await pollUntil('tiers settled', () => tiersSettled(base.MONGODB_URI, READINGS.length), { timeoutMs: 60_000 });
    await Promise.all([firstApi.stop(), worker.stop()]);
    // Then with retention.
    api = await start('api', { ...base, ...RETENTION });
    await start('worker', { ...base, ...RETENTION });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await mongo?.close();
  }, 60_000);

  it('deletes raw readings, minutes and hours past their retention and keeps the days', async () => {
    const db = mongo.db();
    const older = async (collection: string, ms: number) =>
      db.collection(collection).countDocuments({ ts: { $lt: new Date(Date.now() - ms) } });
    await pollUntil(
      'the sweep to delete what is past retention',
      async () =>
        (await older('points', DAY)) === 0 &&
        (await older('points_m1', 3 * DAY)) === 0 &&
        (await older('points_h1', 10 * DAY)) === 0,
      { timeoutMs: 60_000 },
    );
    // What is inside retention is still there: exactly the readings and periods younger than each limit.
    const within = (ms: number) => READINGS.filter((r) => r.ts >= Date.now() - ms + 60_000).length;
    expect(await db.collection('points').countDocuments()).toBe(within(DAY));
    const n = async (collection: string) =>
      (await db.collection(collection).find({}).toArray()).reduce((s, d) => s + readingsIn(d), 0);
    expect(await n('points_m1')).toBe(within(3 * DAY));
    expect(await n('points_h1')).toBe(within(10 * DAY));
    expect(await n('points_d1')).toBe(READINGS.length);
  }, 90_000);

  it('defines the TTL indexes MongoDB enforces, one per rollup tier with a retention', async () => {
    const ttl = async (collection: string) =>
      (await mongo.db().collection(collection).listIndexes().toArray()).find((i) => i.name === 'ttl_ts')
        ?.expireAfterSeconds;
    expect(await ttl('points_m1')).toBe((3 * DAY) / 1000);
    expect(await ttl('points_h1')).toBe((10 * DAY) / 1000);
    expect(await ttl('points_d1')).toBeUndefined();
  });

  it('answers day windows from the day tier over the whole history, and refuses minutes past their retention', async () => {
    const from = TODAY - 21 * DAY;
    const qs = new URLSearchParams({
      sensorId: 'ret-1',
      metric: 't',
      from: String(from),
      to: String(TODAY + DAY),
      window: '1d',
    });
    const days = await getJson<AggregatesAnswer>(`${api.url}/v1/aggregates?${qs}`);
    expect(days.status).toBe(200);
    expect(days.json.buckets.reduce((s, b) => s + b.count, 0)).toBe(READINGS.length);

    const old = TODAY - 5 * DAY;
    const minutes = new URLSearchParams({
      sensorId: 'ret-1',
      metric: 't',
      from: String(old),
      to: String(old + HOUR),
      window: '1m',
    });
    const refused = await getJson<{ message: string }>(`${api.url}/v1/aggregates?${minutes}`);
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/kept for (3d|1d)/);
  });

  it('refuses readings past the rollups retention at ingest, naming the field and the limit', async () => {
    const res = await postJson(`${api.url}/v1/points`, [
      { sensorId: 'ret-1', metric: 't', value: 1, ts: Date.now() - 4 * DAY },
    ]);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toMatch(/"field":"ts".*past the retention of the rollups/);
  });
});
