// The tier store's slice writes against the real server: slices are inserted, and a slice whose key is already
// there (its batch was retried, possibly holding more or fewer readings) is replaced by what the retry holds.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import mongoose, { type Connection } from 'mongoose';

import type { FunnelConfig } from '@funnel/config';
import {
  HOUR_MS,
  MINUTE_MS,
  SeriesCatalogRepository,
  seriesFields,
  statsOf,
  storedSliceMinute,
  TierCompactor,
  TierReader,
  TierStore,
  type SeriesBuckets,
  type SliceDoc,
  type SliceMinute,
  type StatGroup,
  type Stats,
  type TierDoc,
} from '@funnel/storage';

import { mongoUriFor } from './support/env.js';

/** A slice of one reading per minute (`n` readings of `value`): only what the store keys and keeps matters here. */
function slice(minute: number, n: number, value: number): SliceDoc {
  const ts = new Date(Date.UTC(2026, 0, 1) + minute * 60_000);
  return {
    _id: `funnel.points:0:100:key${minute}:${ts.getTime()}`,
    k: `key${minute}`,
    s: 'sensor-1',
    m: 'value',
    g: {},
    ga: [],
    t: 'funnel.points',
    p: 0,
    o: 100,
    oe: 100 + n,
    ts,
    mins: [{ ts, n, sum: n * value, min: value, max: value }],
  } as unknown as SliceDoc;
}

describe('TierStore.writeSlices', () => {
  let connection: Connection;
  let store: TierStore;

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoUriFor(`tierstore_${Date.now().toString(36)}`)).asPromise();
    store = new TierStore(connection, { MONGODB_COLLECTION: 'points' } as FunnelConfig);
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('inserts new slices and replaces those a retried batch writes again, leaving one per key', async () => {
    await store.writeSlices([slice(0, 1, 5), slice(1, 2, 6), slice(2, 1, 7)], 10_000);
    // The retry: minute 1 now holds 3 readings of another value, minute 2 is the same, minute 3 is new.
    await store.writeSlices([slice(1, 3, 8), slice(2, 1, 7), slice(3, 4, 9)], 10_000);

    const stored = await store.slices
      .find({}, { projection: { _id: 1, 'mins.n': 1, 'mins.sum': 1 } })
      .sort({ _id: 1 })
      .toArray();
    const expected = [slice(0, 1, 5), slice(1, 3, 8), slice(2, 1, 7), slice(3, 4, 9)]
      .map(({ _id, mins }) => ({ _id, mins: (mins as SliceMinute[]).map(({ n, sum }) => ({ n, sum })) }))
      .sort((a, b) => a._id.localeCompare(b._id));
    expect(stored).toEqual(expected);
  });

  it('writes nothing for an empty batch', async () => {
    const before = await store.slices.countDocuments();
    await store.writeSlices([], 10_000);
    expect(await store.slices.countDocuments()).toBe(before);
  });
});

describe('TierReader on a server that uses only unique indexes', () => {
  const topic = 'funnel.points';
  const from = Date.UTC(2026, 4, 1);
  const minutes = 800;
  const sensors = ['r-1', 'r-2', 'r-3'];
  const config = {
    MONGODB_COLLECTION: 'points',
    KAFKA_TOPIC: topic,
    COMPACTION_BATCH: 5000,
    RETENTION_RAW: 'forever',
    RETENTION_MINUTE: 'forever',
    RETENTION_HOUR: 'forever',
    RETENTION_DAY: 'forever',
  } as unknown as FunnelConfig;
  let connection: Connection;
  /** Reads by id (as on the stand-in) and by series filter, over the same collections. */
  let byId: { store: TierStore; reader: TierReader };
  let scan: { store: TierStore; reader: TierReader };
  const value = (sensor: number, minute: number) => ((sensor + 1) * 13 + minute * 7) % 101;

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoUriFor(`tierread_${Date.now().toString(36)}`)).asPromise();
    const make = async (timeSeries: boolean) => {
      const store = new TierStore(connection, config);
      await store.ensureIndexes(timeSeries);
      const catalog = new SeriesCatalogRepository(connection, config);
      return { store, catalog, reader: new TierReader(store, catalog, config) };
    };
    const a = await make(false);
    const b = await make(true);
    byId = a;
    scan = b;
    // Slices of one reading a minute per sensor (tag site by sensor), one slice per series-hour, then compacted.
    const slices: SliceDoc[] = [];
    sensors.forEach((sensorId, i) => {
      const series = seriesFields(sensorId, 'temp', { site: i === 2 ? 'south' : 'north' });
      for (let h = 0; h * 60 < minutes; h++) {
        const hour = from + h * HOUR_MS;
        const mins = [];
        for (let m = h * 60; m < Math.min(minutes, (h + 1) * 60); m++) {
          const minute = from + m * MINUTE_MS;
          mins.push(storedSliceMinute(minute, statsOf([{ ts: minute + 1000, value: value(i, m) }])));
        }
        slices.push({
          _id: `${topic}:${i}:0:${series.k}:${hour}`,
          ...series,
          t: topic,
          p: i,
          o: h,
          oe: h,
          ts: new Date(hour),
          mins,
        } as SliceDoc);
      }
    });
    await a.store.writeSlices(slices, 10_000);
    const compactor = new TierCompactor(a.store, a.catalog, config);
    const partitions = sensors.map((_, p) => ({ topic, partition: p, committed: 1_000 }));
    while ((await compactor.compact(partitions, 5000)).more);
    while ((await compactor.rollUp('hour', 5000, Date.now())).more);
    while ((await compactor.rollUp('day', 5000, Date.now())).more);
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  /** count and sum per sensor and bucket, computed from the generator. */
  function expected(sensorIdx: readonly number[], bounds: readonly number[]): Record<string, Array<[number, number]>> {
    const out: Record<string, Array<[number, number]>> = {};
    for (const i of sensorIdx) {
      const buckets: Array<[number, number]> = [];
      for (let b = 0; b + 1 < bounds.length; b++) {
        let n = 0;
        let sum = 0;
        for (let m = 0; m < minutes; m++) {
          const ts = from + m * MINUTE_MS + 1000;
          if (ts >= bounds[b]! && ts < bounds[b + 1]!) {
            n++;
            sum += value(i, m);
          }
        }
        if (n > 0) buckets.push([n, sum]);
      }
      out[sensors[i]!] = buckets;
    }
    return out;
  }

  function answered(result: SeriesBuckets[]): Record<string, Array<[number, number]>> {
    const out: Record<string, Array<[number, number]>> = {};
    for (const { series, buckets } of result)
      out[series.sensorId] = [...buckets].sort(([a], [b]) => a - b).map(([, s]) => [s.n, s.sum]);
    return out;
  }

  const limits = { maxTimeMS: 10_000, maxRawReadings: 0 };

  it.each([
    ['one sensor in 10-minute buckets', { metrics: ['temp'], sensorIds: ['r-2'] }, [1], 10 * MINUTE_MS, true],
    ['a tag in hour buckets', { metrics: ['temp'], tags: { site: 'north' } }, [0, 1], HOUR_MS, true],
    // 3 series x 800 minutes: more ids than a small collection is worth reading by id, so it is scanned.
    ['every sensor in 5-minute buckets', { metrics: ['temp'], sensorPrefix: 'r-' }, [0, 1, 2], 5 * MINUTE_MS, false],
  ] as const)(
    'answers %s the same by id and by scan, equal to the readings',
    async (_, selector, idx, width, viaIds) => {
      const bounds: number[] = [];
      for (let t = from; t <= from + minutes * MINUTE_MS; t += width) bounds.push(t);
      const reads = jest.spyOn(byId.store, 'byIds');
      const scans = jest.spyOn(byId.store, 'selected');
      const ids = answered(await byId.reader.bucketStats(selector, bounds, limits));
      expect(reads.mock.calls.length > 0).toBe(viaIds);
      expect(scans.mock.calls.length > 0).toBe(!viaIds);
      reads.mockRestore();
      scans.mockRestore();
      const scanned = answered(await scan.reader.bucketStats(selector, bounds, limits));
      expect(ids).toEqual(expected(idx, bounds));
      expect(scanned).toEqual(ids);
    },
  );

  it('reads nothing for a sensor the catalog does not list', async () => {
    const result = await byId.reader.bucketStats(
      { metrics: ['temp'], sensorIds: ['nobody'] },
      [from, from + HOUR_MS],
      limits,
    );
    expect(result).toEqual([]);
  });

  /** Per series and bucket, the statistics of `group` (and the count) as a comparable record. */
  function ofGroup(result: SeriesBuckets[], group: StatGroup | 'count'): Record<string, unknown[]> {
    const fields: Record<StatGroup | 'count', (s: Stats) => unknown[]> = {
      count: (s) => [s.n],
      sum: (s) => [s.n, s.sum],
      range: (s) => [s.n, s.min, s.max],
      first: (s) => [s.n, s.ft, s.fv],
      last: (s) => [s.n, s.lt, s.lv],
      variance: (s) => [s.n, s.mean, s.m2],
      sketch: (s) => [s.n, Buffer.from(s.sketch.encode()).toString('base64')],
    };
    const out: Record<string, unknown[]> = {};
    for (const { series, buckets } of result)
      out[series.sensorId] = [...buckets].sort(([a], [b]) => a - b).map(([i, s]) => [i, ...fields[group](s)]);
    return out;
  }

  it.each(['count', 'sum', 'range', 'first', 'last', 'variance', 'sketch'] as const)(
    'reads only what %s needs, and answers it exactly as a read of every statistic does',
    async (group) => {
      // Hour buckets over 800 minutes: 13 hours from the hour tier, the last 20 minutes from the minute tier.
      const bounds = [
        from,
        ...Array.from({ length: 13 }, (_, h) => from + (h + 1) * HOUR_MS),
        from + minutes * MINUTE_MS,
      ];
      const stats = new Set<StatGroup>(group === 'count' ? [] : [group]);
      const selector = { metrics: ['temp'], sensorPrefix: 'r-' };
      for (const { store, reader } of [byId, scan]) {
        const all = ofGroup(await reader.bucketStats(selector, bounds, limits), group);
        const byIds = jest.spyOn(store, 'byIds');
        const selected = jest.spyOn(store, 'selected');
        const part = await reader.bucketStats(selector, bounds, { ...limits, stats });
        const docs: TierDoc[] = [
          ...(await Promise.all(byIds.mock.results.map((r) => r.value as Promise<Map<string, TierDoc>>))).flatMap(
            (m) => [...m.values()],
          ),
          ...(await Promise.all(selected.mock.results.map((r) => r.value as Promise<TierDoc[]>))).flat(),
        ];
        byIds.mockRestore();
        selected.mockRestore();
        expect(ofGroup(part, group)).toEqual(all);
        // Only the fields asked for came back.
        expect(docs.length).toBeGreaterThan(0);
        // Documents of one reading hold its time and value only, whatever is asked.
        const full = docs.filter((d) => 'n' in d);
        expect(full.length).toBeGreaterThan(0);
        for (const doc of docs.filter((d) => !('n' in d))) expect(['t' in doc, 'v' in doc]).toEqual([true, true]);
        for (const doc of full) {
          expect('q' in doc).toBe(group === 'sketch');
          expect('sum' in doc).toBe(group === 'sum');
          expect('m2' in doc).toBe(group === 'variance');
          expect('w' in doc || 'ga' in doc).toBe(false);
        }
      }
    },
  );
});
