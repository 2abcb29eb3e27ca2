// Bucket statistics computed from the raw readings: sub-minute windows, the unaligned edges of a range, and
// everything the tiers do not hold yet.
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { MongoServerError, ObjectId, type Document, type Filter } from 'mongodb';
import type { Model } from 'mongoose';

import { StoredPoint } from '../readings/reading.schema.js';
import { orUnavailable } from '../storage-errors.js';
import {
  RawScanTooLarge,
  type BucketReadLimits,
  type BucketStatsSource,
  type SeriesBuckets,
  type SeriesId,
  type SeriesSelector,
} from './bucket-stats.js';
import { addReading, emptyStats } from './stats.js';

/** MongoDB's code for an operation stopped by its maxTimeMS. */
const MAX_TIME_MS_EXPIRED = 50;
/** Readings fetched per cursor batch: memory stays bounded whatever the range. */
const BATCH_SIZE = 2000;

/** A read that ran past its time limit (MongoDB's maxTimeMS, or the reader's own deadline on the stand-in). */
export class ReadTimedOut extends Error {
  constructor(readonly limitMs: number) {
    super(`the read took longer than ${limitMs} ms`);
    this.name = 'ReadTimedOut';
  }
}

/** The key of a series: sensor, metric and its tags sorted by key (the same tags in any order are one series). */
export function seriesKeyOf(
  sensorId: string,
  metric: string,
  tags: Readonly<Record<string, string>> | undefined,
): string {
  const sorted = tags ? Object.keys(tags).sort() : [];
  return JSON.stringify([sensorId, metric, ...sorted.flatMap((k) => [k, tags![k]])]);
}

/** The MongoDB filter on raw readings for a selector over [from, to). */
export function rawReadingsFilter(selector: SeriesSelector, from: number, to: number): Filter<Document> {
  const filter: Record<string, unknown> = {
    'meta.metric': selector.metrics.length === 1 ? selector.metrics[0] : { $in: [...selector.metrics] },
    ts: { $gte: new Date(from), $lt: new Date(to) },
  };
  const sensor: Record<string, unknown> = {};
  if (selector.sensorIds?.length) sensor.$in = [...selector.sensorIds];
  if (selector.sensorPrefix) sensor.$regex = `^${escapeRegExp(selector.sensorPrefix)}`;
  if (Object.keys(sensor).length > 0) filter['meta.sensorId'] = sensor;
  // A field path cannot name a key holding a dot: those tags are checked on each reading instead (tagsMatch).
  for (const [key, value] of Object.entries(selector.tags ?? {})) {
    if (!key.includes('.')) filter[`meta.tags.${key}`] = value;
  }
  return filter as Filter<Document>;
}

/** Whether a reading's tags hold every tag the selector asks for. */
function tagsMatch(
  wanted: Readonly<Record<string, string>> | undefined,
  tags: Record<string, string> | undefined,
): boolean {
  if (!wanted) return true;
  for (const key in wanted) if (tags?.[key] !== wanted[key]) return false;
  return true;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Index of the bucket [bounds[i], bounds[i + 1]) holding ts, or -1 outside [bounds[0], bounds[last]). */
export function bucketIndex(bounds: readonly number[], ts: number): number {
  let lo = 0;
  let hi = bounds.length - 1;
  if (ts < bounds[0]! || ts >= bounds[hi]!) return -1;
  // Invariant: bounds[lo] <= ts < bounds[hi].
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (bounds[mid]! <= ts) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Statistics per series and bucket straight from the raw readings: counts what it would scan first (and refuses
 * over `maxRawReadings`), then streams the readings through a cursor and adds each to its bucket.
 */
@Injectable()
export class RawStatsReader implements BucketStatsSource {
  constructor(@InjectModel(StoredPoint.name) private readonly model: Model<StoredPoint>) {}

  async bucketStats(
    selector: SeriesSelector,
    bounds: readonly number[],
    limits: BucketReadLimits,
  ): Promise<SeriesBuckets[]> {
    if (bounds.length < 2) return [];
    const deadline = Date.now() + limits.maxTimeMS;
    const filter = rawReadingsFilter(selector, bounds[0]!, bounds[bounds.length - 1]!);
    const collection = this.model.collection;
    const readings = await timed(limits.maxTimeMS, () =>
      orUnavailable(() =>
        collection.countDocuments(filter, { maxTimeMS: limits.maxTimeMS, limit: limits.maxRawReadings + 1 }),
      ),
    );
    if (readings > limits.maxRawReadings) throw new RawScanTooLarge(readings, limits.maxRawReadings);

    const series = new Map<string, SeriesBuckets>();
    const cursor = collection.find(filter, {
      projection: { _id: 0, ts: 1, value: 1, meta: 1 },
      batchSize: BATCH_SIZE,
      maxTimeMS: Math.max(1, deadline - Date.now()),
    });
    try {
      await timed(limits.maxTimeMS, () =>
        orUnavailable(async () => {
          for await (const doc of cursor) {
            if (Date.now() > deadline) throw new ReadTimedOut(limits.maxTimeMS);
            const ts = doc.ts instanceof Date ? doc.ts.getTime() : Number(doc.ts);
            const i = bucketIndex(bounds, ts);
            if (i < 0) continue;
            const meta = doc.meta as { sensorId: string; metric: string; tags?: Record<string, string> };
            if (!tagsMatch(selector.tags, meta.tags)) continue;
            const key = seriesKeyOf(meta.sensorId, meta.metric, meta.tags);
            let entry = series.get(key);
            if (!entry) {
              const id: SeriesId = { sensorId: meta.sensorId, metric: meta.metric, tags: { ...(meta.tags ?? {}) } };
              entry = { series: id, buckets: new Map() };
              series.set(key, entry);
            }
            let stats = entry.buckets.get(i);
            if (!stats) entry.buckets.set(i, (stats = emptyStats()));
            addReading(stats, ts, Number(doc.value));
          }
        }),
      );
    } finally {
      await cursor.close().catch(() => undefined);
    }
    return [...series.values()];
  }
}

/** Runs a read, turning MongoDB's maxTimeMS expiry into ReadTimedOut. */
async function timed<T>(limitMs: number, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED) throw new ReadTimedOut(limitMs);
    throw error;
  }
}

/** One raw reading as exported. */
export interface ExportedReading {
  id: string;
  sensorId: string;
  metric: string;
  ts: number;
  value: number;
  tags?: Record<string, string>;
}

/** Where an export page starts: the (ts, _id) of its first reading, inclusive. */
export interface ExportPosition {
  ts: number;
  id: string;
}

/**
 * Raw readings of one series in time order (ties by _id), a page at a time: `next` is where the next page
 * starts, found before the page streams so that it can go in a header. Memory stays at one cursor batch.
 */
@Injectable()
export class RawReadingsExport {
  constructor(@InjectModel(StoredPoint.name) private readonly model: Model<StoredPoint>) {}

  async page(
    q: { sensorId: string; metric: string; from: number; to: number; limit: number; after?: ExportPosition },
    maxTimeMS: number,
  ): Promise<{ next?: ExportPosition; readings: AsyncIterable<ExportedReading>; close: () => Promise<void> }> {
    const filter: Record<string, unknown> = {
      'meta.sensorId': q.sensorId,
      'meta.metric': q.metric,
      ts: { $gte: new Date(q.from), $lt: new Date(q.to) },
    };
    if (q.after) {
      const at = new Date(q.after.ts);
      filter.$or = [{ ts: { $gt: at } }, { ts: at, _id: { $gte: new ObjectId(q.after.id) } }];
    }
    const collection = this.model.collection;
    const sort = { ts: 1, _id: 1 } as const;
    const [following] = await timed(maxTimeMS, () =>
      orUnavailable(() =>
        collection.find(filter, { projection: { ts: 1, _id: 1 }, sort, skip: q.limit, limit: 1, maxTimeMS }).toArray(),
      ),
    );
    const cursor = collection.find(filter, {
      projection: { _id: 0, id: 1, ts: 1, value: 1, meta: 1 },
      sort,
      limit: q.limit,
      batchSize: BATCH_SIZE,
      maxTimeMS,
    });
    async function* readings(): AsyncIterable<ExportedReading> {
      for await (const doc of cursor) {
        const meta = doc.meta as { sensorId: string; metric: string; tags?: Record<string, string> };
        yield {
          id: String(doc.id),
          sensorId: meta.sensorId,
          metric: meta.metric,
          ts: doc.ts instanceof Date ? doc.ts.getTime() : Number(doc.ts),
          value: Number(doc.value),
          ...(meta.tags && Object.keys(meta.tags).length > 0 ? { tags: meta.tags } : {}),
        };
      }
    }
    return {
      ...(following ? { next: { ts: new Date(following.ts as Date).getTime(), id: String(following._id) } } : {}),
      readings: readings(),
      close: () => cursor.close(),
    };
  }
}
