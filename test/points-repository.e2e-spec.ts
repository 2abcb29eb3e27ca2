// The readings repository against the real server, where it makes a regular collection (the stand-in): each reading's
// _id is derived from its key, the id check reads by _id, and a second copy of a key is refused as a duplicate.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose, { type Connection } from 'mongoose';

import type { FunnelConfig } from '@funnel/config';
import { readingKey, type WirePoint } from '@funnel/contracts';
import {
  PointsRepository,
  readingDocId,
  ReadingsStoredMeanwhile,
  type StorageCapabilities,
  type StoredCopy,
} from '@funnel/storage';

import { mongoUriFor } from './support/env.js';

const T0 = Date.UTC(2026, 10, 1);

/** 600 readings (three lookup lists of 250) over 7 sensors, 2 metrics, some tagged, a second apart. */
const POINTS: WirePoint[] = Array.from({ length: 600 }, (_, i) => ({
  id: `b:0123456789abcdef01234567:${i}`,
  sensorId: `s${i % 7}`,
  metric: i % 2 === 0 ? 'm0' : 'm1',
  value: i / 4,
  ts: T0 + i * 1000,
  ...(i % 5 === 0 ? { tags: { site: `site-${i % 3}` } } : {}),
}));
const srcOf = (i: number) => `${i % 3}:${1000 + i}`;

describe('PointsRepository on a regular collection', () => {
  let connection: Connection;
  let repository: PointsRepository;
  let caps: StorageCapabilities;
  const points = () => connection.db!.collection('points');

  beforeAll(async () => {
    connection = await mongoose.createConnection(mongoUriFor(`pointsrepo_${Date.now().toString(36)}`)).asPromise();
    const model = { collection: connection.collection('points') } as unknown as ConstructorParameters<
      typeof PointsRepository
    >[0];
    const config = { TS_GRANULARITY: 'seconds', FLUSH_WRITE_STREAMS: 4 } as FunnelConfig;
    repository = new PointsRepository(model, connection, config);
    caps = await repository.ensureCollection();
    await repository.insertMany(
      POINTS.map((point, i) => ({ point, src: srcOf(i) })),
      10_000,
    );
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it("stores each reading under the _id of its key (readingDocId), an ObjectId as the driver's", async () => {
    expect(caps.timeSeries).toBe(false);
    expect(repository.refusesRepeats).toBe(true);
    const docs = await points().find({}).toArray();
    expect(docs).toHaveLength(POINTS.length);
    for (const d of docs) {
      expect(d._id.toHexString()).toBe(
        readingDocId({ id: d.id, sensorId: d.meta.sensorId, metric: d.meta.metric }).toHexString(),
      );
    }
  });

  it('finds what is stored under each key by _id, whatever time the readings asked about carry', async () => {
    const retried = POINTS.filter((_, i) => i % 2 === 0).map((p) => ({ ...p, ts: p.ts + 86_400_000, value: -1 }));
    const otherMetric = { ...POINTS[1]!, metric: 'm0' }; // same id and sensor, a key never stored
    const fresh = { ...POINTS[0]!, id: 'b:0123456789abcdef01234567:fresh' };
    const stored = await repository.existingIds([...retried, otherMetric, fresh], 0);
    expect(stored.size).toBe(retried.length);
    expect(stored.has(readingKey(otherMetric))).toBe(false);
    expect(stored.has(readingKey(fresh))).toBe(false);
    for (const [i, p] of POINTS.entries()) {
      if (i % 2 !== 0) continue;
      expect(stored.get(readingKey(p))).toEqual({
        src: srcOf(i),
        sensorId: p.sensorId,
        metric: p.metric,
        tags: p.tags,
        ts: p.ts,
        value: p.value,
      } satisfies StoredCopy);
    }
  });

  it('refuses a second copy of a stored key as ReadingsStoredMeanwhile, and stores the rest of the insert', async () => {
    const fresh = { ...POINTS[4]!, id: 'b:0123456789abcdef01234567:late' };
    const attempt = repository.insertMany(
      [
        { point: { ...POINTS[3]!, value: 99 }, src: '2:9999' },
        { point: fresh, src: '2:9999' },
      ],
      10_000,
    );
    await expect(attempt).rejects.toBeInstanceOf(ReadingsStoredMeanwhile);
    await expect(attempt).rejects.toMatchObject({ duplicates: 1, refused: [0] });
    expect(await points().countDocuments()).toBe(POINTS.length + 1);
    const kept = await points().findOne({ id: POINTS[3]!.id });
    expect([kept?.src, kept?.value]).toEqual([srcOf(3), POINTS[3]!.value]);
    expect((await repository.existingIds([fresh], 0)).get(readingKey(fresh))?.src).toBe('2:9999');
  });
});
