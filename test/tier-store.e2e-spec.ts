// The tier store's slice writes against the real server: slices are inserted, and a slice whose key is already
// there (its batch was retried, possibly holding more or fewer readings) is replaced by what the retry holds.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import mongoose, { type Connection } from 'mongoose';

import type { FunnelConfig } from '@funnel/config';
import { TierStore, type SliceDoc, type SliceMinute } from '@funnel/storage';

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
