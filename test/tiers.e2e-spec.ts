// The rollup tiers against the real broker and server: after a steady stream, a backfill months back and late
// readings into compacted minutes, hours and days, with workers SIGKILLed in the middle of a compaction and of a
// roll-up, every minute, hour and day document equals an independent calculation over the readings sent, and
// there is exactly one document per series and period.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil } from '@funnel/dev-infra';

import { prng } from './support/dataset.js';
import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer } from './support/http.js';
import { readingsIn, tiersSettled } from './support/mongo.js';
import {
  differences,
  exactByPeriod,
  PERIOD_MS,
  seriesOf,
  type Period,
  type TaggedReading,
} from './support/tier-oracle.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Two whole UTC days, ending a day before today (well inside any future-skew limit). */
const STEADY_FROM = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
const STEADY_TO = STEADY_FROM + 2 * DAY;
const SERIES: Array<Pick<TaggedReading, 'sensorId' | 'metric' | 'tags'>> = [
  { sensorId: 'tier-a', metric: 't', tags: { site: 'north' } },
  { sensorId: 'tier-a', metric: 't', tags: { site: 'south' } },
  { sensorId: 'tier-b', metric: 't' },
];

let nextId = 0;
/** Quarter values in [-40, 40] with zeros: every sum is exact in binary floating point. */
function reading(random: () => number, series: (typeof SERIES)[number], ts: number): TaggedReading & { id: string } {
  const value = random() < 0.05 ? 0 : Math.round((random() - 0.5) * 320) / 4;
  return { id: `tier-${nextId++}`, ...series, ts, value };
}

const random = prng(11);
/** Every 7 minutes per series over the two days, plus a tie on one timestamp. */
const STEADY = SERIES.flatMap((s) => {
  const out = [];
  for (let ts = STEADY_FROM + 13_000; ts < STEADY_TO; ts += 7 * MINUTE) out.push(reading(random, s, ts));
  out.push(reading(random, s, STEADY_FROM + 13_000));
  return out;
});
/** Three months earlier, sparse. */
const BACKFILL = SERIES.flatMap((s) =>
  Array.from({ length: 60 }, (_, i) => reading(random, s, STEADY_FROM - 90 * DAY + i * 37 * 60 * MINUTE + 5_000)),
);
/** Late readings into minutes, hours and days already compacted and rolled up. */
const LATE = SERIES.flatMap((s) =>
  Array.from({ length: 40 }, () => reading(random, s, STEADY_FROM + Math.floor(random() * (STEADY_TO - STEADY_FROM)))),
);

const MAIN = path.resolve('dist/apps/funnel/src/main.js');

/** Readings an earlier version stored: no source, no slices, no tiers. */
const LEGACY = SERIES.flatMap((s) =>
  Array.from({ length: 30 }, (_, i) => reading(random, s, STEADY_FROM - 10 * DAY + i * 17 * MINUTE + 1_000)),
);

async function ingest(url: string, readings: readonly TaggedReading[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 400) {
    const res = await postJson(`${url}/v1/points`, readings.slice(i, i + 400));
    expect(res.status).toBe(202);
  }
}

describe('rollup tiers: compaction, hours and days, late data, kills mid-compaction', () => {
  const env: Record<string, string> = {
    ...isolatedEnv('tiers'),
    COMPACTION_INTERVAL_MS: '200',
    DEDUP_SETTLE_MS: '2000',
  };
  let api: FunnelProcess;
  const workers: FunnelProcess[] = [];
  let mongo: MongoClient;
  const sent: TaggedReading[] = [];

  const startWorker = async (extra: Record<string, string> = {}) => {
    const worker = (await FunnelProcess.onFreePort('worker', { ...env, ...extra })).start();
    workers.push(worker);
    await worker.waitReady();
    return worker;
  };

  /** Every tier document equals the calculation, one per series and period, and nothing else is stored. */
  async function expectTiersExact(): Promise<void> {
    await pollUntil('compaction and roll-ups settled', () => tiersSettled(env.MONGODB_URI, sent.length), {
      timeoutMs: 90_000,
    });
    for (const period of Object.keys(PERIOD_MS) as Period[]) {
      const exact = exactByPeriod(sent, period);
      const collection = { minute: 'points_m1', hour: 'points_h1', day: 'points_d1' }[period];
      const docs = (await mongo.db().collection(collection).find({}).toArray()).filter((d) => readingsIn(d) > 0);
      const stored = new Map(docs.map((d) => [`${seriesOf(d.s, d.m, d.g)}|${new Date(d.ts).getTime()}`, d]));
      expect({ period, docs: docs.length }).toEqual({ period, docs: exact.size });
      expect([...stored.keys()].sort()).toEqual([...exact.keys()].sort());
      const wrong = [...exact].flatMap(([key, want]) =>
        differences(stored.get(key)!, want).map((problem) => `${period} ${key}: ${problem}`),
      );
      expect(wrong).toEqual([]);
    }
  }

  beforeAll(async () => {
    api = (await FunnelProcess.onFreePort('api', env)).start();
    mongo = new MongoClient(env.MONGODB_URI);
    await api.waitReady();
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), ...workers.map((w) => w.stop())]);
    await mongo?.close();
  }, 60_000);

  it('survives a SIGKILL after a compaction write and after a roll-up write, and stays exact', async () => {
    const first = await startWorker({ TIERS_HALT_AT: 'compaction-merged' });
    await ingest(api.url, STEADY);
    sent.push(...STEADY);
    await pollUntil(
      'the compaction to halt after its write',
      async () => first.output().includes('halt point compaction-merged reached'),
      {
        timeoutMs: 60_000,
      },
    );
    first.kill('SIGKILL');
    const second = await startWorker({ TIERS_HALT_AT: 'rollup-written' });
    await pollUntil(
      'the roll-up to halt after its write',
      async () => second.output().includes('halt point rollup-written reached'),
      {
        timeoutMs: 90_000,
      },
    );
    second.kill('SIGKILL');
    await startWorker();
    await expectTiersExact();
  }, 300_000);

  it('takes a backfill months back and late readings into compacted minutes, hours and days', async () => {
    await ingest(api.url, BACKFILL);
    sent.push(...BACKFILL);
    await expectTiersExact();
    await ingest(api.url, LATE);
    sent.push(...LATE);
    await expectTiersExact();
  }, 240_000);

  it('answers day and hour windows from the tiers exactly as the readings say', async () => {
    for (const [window, width] of [
      ['1d', DAY],
      ['1h', PERIOD_MS.hour],
    ] as const) {
      const qs = new URLSearchParams({
        sensorId: 'tier-a',
        metric: 't',
        from: String(STEADY_FROM),
        to: String(STEADY_TO),
        window,
      });
      const res = await getJson<AggregatesAnswer>(`${api.url}/v1/aggregates?${qs}`);
      expect({ status: res.status, log: res.status === 200 ? '' : JSON.stringify(res.json) }).toEqual({
        status: 200,
        log: '',
      });
      // Both tag sets of tier-a together, by plain loops.
      const mine = sent.filter((r) => r.sensorId === 'tier-a' && r.ts >= STEADY_FROM && r.ts < STEADY_TO);
      const buckets = new Map<number, number[]>();
      for (const r of mine) {
        const start = r.ts - (r.ts % width);
        buckets.set(start, [...(buckets.get(start) ?? []), r.value]);
      }
      const want = [...buckets]
        .sort(([a], [b]) => a - b)
        .map(([start, values]) => ({
          start: new Date(start).toISOString(),
          count: values.length,
          min: Math.min(...values),
          max: Math.max(...values),
          sum: values.reduce((a, b) => a + b, 0),
        }));
      expect(res.json.buckets.map(({ start, count, min, max, sum }) => ({ start, count, min, max, sum }))).toEqual(
        want,
      );
    }
  }, 60_000);

  it('rollups rebuild recomputes a range from raw readings, also after a SIGKILL mid-rebuild, beside the worker', async () => {
    // An earlier version's readings, stored without sources and never rolled up.
    await mongo
      .db()
      .collection('points')
      .insertMany(
        LEGACY.map((r) => ({
          id: r.id,
          ts: new Date(r.ts),
          meta: r.tags
            ? { sensorId: r.sensorId, metric: r.metric, tags: r.tags }
            : { sensorId: r.sensorId, metric: r.metric },
          value: r.value,
        })),
      );
    sent.push(...LEGACY);
    // And tiers lost for part of the steady range.
    const lostFrom = new Date(STEADY_FROM);
    const lostTo = new Date(STEADY_FROM + DAY);
    for (const name of ['points_m1', 'points_h1']) {
      await mongo
        .db()
        .collection(name)
        .deleteMany({ ts: { $gte: lostFrom, $lt: lostTo } });
    }
    await mongo.db().collection('points_d1').deleteMany({ ts: lostFrom });
    const range = [
      'rollups',
      'rebuild',
      '--from',
      new Date(STEADY_FROM - 11 * DAY).toISOString(),
      '--to',
      String(STEADY_TO),
    ];

    const halted = spawn(process.execPath, [MAIN, ...range], {
      env: { ...process.env, ...env, TIERS_HALT_AT: 'rebuild-written' },
    });
    let output = '';
    halted.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    halted.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await pollUntil(
      'the rebuild to halt after its first write',
      async () => output.includes('halt point rebuild-written reached'),
      {
        timeoutMs: 60_000,
      },
    );
    halted.kill('SIGKILL');

    const run = spawnSync(process.execPath, [MAIN, ...range], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/rebuilt \d+ minutes from \d+ readings over \d+ hours/);
    await expectTiersExact();
  }, 300_000);
});
