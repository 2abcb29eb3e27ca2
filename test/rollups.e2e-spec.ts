// Minute rollups stay exact when records are replayed (worker SIGKILLed mid-stream, its uncommitted records
// redelivered to the next worker) and when requests are retried under the same Idempotency-Key (the same
// readings arrive again in other Kafka records): aggregates served from rollups equal an independent
// calculation over the readings sent, and the rollups count exactly the stored readings.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil } from '@funnel/dev-infra';

import { expectedBuckets, makeReadings, type Reading } from './support/dataset.js';
import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer } from './support/http.js';
import { workerCaughtUp } from './support/kafka.js';
import { tiersSettled } from './support/mongo.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SENSORS = ['r-1', 'r-2'];
const METRICS = ['t'];
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - 3 * HOUR;
const READINGS = makeReadings({
  seed: 7,
  sensors: SENSORS,
  metrics: METRICS,
  start: START,
  spanMs: END - START,
  perSeries: 3000,
});
const BATCH = 100;

/** POSTs a batch under an Idempotency-Key and answers the status. */
async function post(url: string, body: unknown, key: string): Promise<number> {
  return (await postJson(`${url}/v1/points`, body, { 'Idempotency-Key': key })).status;
}

describe('rollups under replays and retries (api + worker, worker SIGKILLed mid-stream)', () => {
  const env: Record<string, string> = { ...isolatedEnv('rollups'), DEDUP_SETTLE_MS: '2000' };
  let api: FunnelProcess;
  const workers: FunnelProcess[] = [];
  let mongo: MongoClient;

  const startWorker = async () => {
    const worker = (await FunnelProcess.onFreePort('worker', env)).start();
    workers.push(worker);
    await worker.waitReady();
    return worker;
  };

  beforeAll(async () => {
    api = (await FunnelProcess.onFreePort('api', env)).start();
    mongo = new MongoClient(env.MONGODB_URI);
    await Promise.all([api.waitReady(), startWorker()]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.stop())]);
    await mongo?.close();
  }, 40_000);

  it('counts every reading once in the rollups', async () => {
    const batches: Reading[][] = [];
    for (let i = 0; i < READINGS.length; i += BATCH) batches.push(READINGS.slice(i, i + BATCH));
    const sendRange = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        expect(await post(api.url, batches[i], `batch-${i}`)).toBe(202);
        if (i % 3 === 0) expect(await post(api.url, batches[i], `batch-${i}`)).toBe(202); // a client retry
      }
    };
    const half = Math.floor(batches.length / 2);
    await sendRange(0, half);
    workers[0].kill('SIGKILL'); // whatever it wrote and did not commit is replayed to the next worker
    const sending = sendRange(half, batches.length);
    await startWorker();
    await sending;
    // Retries of already stored requests, after the takeover.
    for (let i = 0; i < half; i += 5) expect(await post(api.url, batches[i], `batch-${i}`)).toBe(202);

    const points = mongo.db().collection('points');
    await pollUntil('all readings stored', async () => (await points.countDocuments()) >= READINGS.length, {
      timeoutMs: 90_000,
    });
    await workerCaughtUp(env, 90_000); // the retries' records, after the last new reading, written or dropped too
    expect(await points.countDocuments()).toBe(READINGS.length);
    // Compaction settles: every reading in exactly one minute, one hour and one day document.
    await pollUntil('tiers compacted', () => tiersSettled(env.MONGODB_URI, READINGS.length), { timeoutMs: 60_000 });

    for (const sensorId of SENSORS) {
      for (const [from, to, window, binMs] of [
        [START, END, 'minute', MINUTE],
        [START + 1234, END - 5678, '15m', 15 * MINUTE],
      ] as const) {
        const qs = new URLSearchParams({ sensorId, metric: 't', from: String(from), to: String(to), window });
        const res = await getJson<AggregatesAnswer>(`${api.url}/v1/aggregates?${qs}`);
        expect(res.status).toBe(200);
        const got = res.json.buckets;
        const want = expectedBuckets(READINGS, { sensorId, metric: 't', from, to, binMs });
        expect(got.map((b) => [b.start, b.count, b.min, b.max])).toEqual(
          want.map((b) => [b.start, b.count, b.min, b.max]),
        );
        got.forEach((b, i) => expect(b.sum).toBeCloseTo(want[i].sum, 6));
      }
    }
  }, 240_000);
});
