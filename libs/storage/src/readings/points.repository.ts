// The readings collection: prepares it, inserts, looks ids up and aggregates raw buckets.
import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection, InjectModel } from '@nestjs/mongoose';
import { MongoBulkWriteError, type Document, type ObjectId } from 'mongodb';
import type { Connection, Model } from 'mongoose';

import { FunnelConfig } from '@funnel/config';
import { readingKey, type WirePoint } from '@funnel/contracts';

import { bucketsPipeline, type BucketQuery } from '../aggregation-pipeline.js';
import { readInLists } from '../in-lists.js';
import { orUnavailable } from '../storage-errors.js';
import { evenChunks, MIN_WRITE_CHUNK } from './chunks.js';
import { readingDocId, readingsTimeSeries, StoredPoint, type SourcedPoint, type StoredCopy } from './reading.schema.js';

/** What the connected server turned out to support, found once at startup. */
export interface StorageCapabilities {
  serverVersion: string;
  timeSeries: boolean;
}

/** Aggregate of one fixed-width time bucket, as MongoDB computed it. */
export interface RawBucket {
  start: number;
  count: number;
  avg: number;
  min: number;
  max: number;
  sum: number;
}

const NAMESPACE_EXISTS = 48;
const DUPLICATE_KEY = 11000;
/**
 * Ids per `_id: {$in}` lookup on a regular collection, and lookups in flight. The stand-in serves such a list from
 * its `_id` index but matches every document it finds against the whole list, so a list of found ids costs about
 * its length squared (TierStore.findByIds reads its documents, all found, in lists of 100). Most ids checked are
 * not stored (a line protocol body is checked on its first delivery too), and those cost the worker per lookup:
 * lists of 250 rather than 100 cut its CPU per line protocol reading in the formats bench (docs/hot-path.md).
 */
const ID_LOOKUP_LIST = 250;
const ID_LOOKUPS_AT_ONCE = 4;

/** Readings of one insert were stored by another write since its id check: the batch is retried, its check finds them. */
export class ReadingsStoredMeanwhile extends Error {
  constructor(
    readonly duplicates: number,
    override readonly cause: unknown,
    /** Indexes (into the points given to insertMany) of the readings refused; every other one was inserted. */
    readonly refused?: readonly number[],
  ) {
    super(
      `${duplicates} readings were stored by another write since the id check (duplicate _id); ` +
        'the batch is retried and its id check finds them',
    );
    this.name = 'ReadingsStoredMeanwhile';
  }
}

/** Reads and writes readings in the time-series collection. Returns plain values, never documents. */
@Injectable()
export class PointsRepository {
  private readonly logger = new Logger(PointsRepository.name);

  constructor(
    @InjectModel(StoredPoint.name) private readonly model: Model<StoredPoint>,
    @InjectConnection() private readonly connection: Connection,
    private readonly config: FunnelConfig,
  ) {}

  /**
   * Set where the readings collection is a regular collection (ensureCollection): each reading's `_id` is then
   * derived from its reading key (readingDocId) and the id check reads by `_id`.
   */
  private keyedIds = false;

  /**
   * True where a second copy of a reading key cannot be inserted (a regular collection, `_id` from the key): an
   * insert of keys that may be stored then refuses those with ReadingsStoredMeanwhile and stores the rest.
   */
  get refusesRepeats(): boolean {
    return this.keyedIds;
  }

  private get collectionName(): string {
    return this.model.collection.collectionName;
  }

  /**
   * Creates the collection as a time-series collection if it does not exist, plus the series index,
   * and reports what the server actually made: the stand-in server and MongoDB < 5.0 make a plain one.
   */
  async ensureCollection(): Promise<StorageCapabilities> {
    const db = this.connection.db;
    if (!db) {
      throw new Error('MongoDB connection is not open');
    }
    const name = this.collectionName;
    const find = async () => (await db.listCollections({}, { nameOnly: false }).toArray()).find((c) => c.name === name);
    if (!(await find())) {
      try {
        await db.createCollection(name, { timeseries: readingsTimeSeries(this.config) });
      } catch (error) {
        if ((error as { code?: number }).code !== NAMESPACE_EXISTS) {
          throw error;
        }
      }
    }
    const info = (await find()) as { type?: string; options?: { timeseries?: unknown } } | undefined;
    const timeSeries = info?.type === 'timeseries' || Boolean(info?.options?.timeseries);
    this.keyedIds = !timeSeries;
    await this.model.collection.createIndex({ 'meta.sensorId': 1, 'meta.metric': 1, ts: 1 }, { name: 'series_ts' });
    // A regular collection's id check reads by `_id` (readingDocId): an index on `id` would only cost its inserts.
    if (timeSeries) await this.ensureIdIndex();
    const build = await db.admin().buildInfo();
    return { serverVersion: String(build.version ?? 'unknown'), timeSeries };
  }

  /**
   * Writes readings unordered (one bad document does not stop the rest), each with the source of its Kafka
   * record (`src`); resolves with the count written. Bounded by `timeoutMS` (aborted server-side via
   * maxTimeMS): the caller decides how long a write may take.
   *
   * On a regular collection each document's `_id` is readingDocId(point), so a reading stored by another write
   * since the batch's id check (a copy of the same key in a record of another partition, written at the same time)
   * fails as a duplicate key: that rejects with ReadingsStoredMeanwhile once every chunk settled, the batch is
   * retried with its ids checked, and the check finds both that copy (counted where its own record is) and what
   * this attempt inserted (counted under this batch's records): nothing is counted twice nor lost.
   */
  async insertMany(points: readonly SourcedPoint[], timeoutMS: number): Promise<number> {
    if (points.length === 0) {
      return 0;
    }
    // Readings of one series mostly come together: they share one meta object (the driver only reads it).
    let meta: { sensorId: string; metric: string; tags?: Record<string, string> } = { sensorId: '', metric: '' };
    let metaOf: WirePoint | undefined;
    const docs = points.map(({ point: p, src }) => {
      if (
        metaOf === undefined ||
        p.sensorId !== metaOf.sensorId ||
        p.metric !== metaOf.metric ||
        p.tags !== metaOf.tags
      ) {
        meta = p.tags
          ? { sensorId: p.sensorId, metric: p.metric, tags: p.tags }
          : { sensorId: p.sensorId, metric: p.metric };
        metaOf = p;
      }
      return this.keyedIds
        ? { _id: readingDocId(p), id: p.id, ts: new Date(p.ts), meta, value: p.value, src }
        : { id: p.id, ts: new Date(p.ts), meta, value: p.value, src };
    });
    // Chunks written at once: the server inserts one while the driver encodes the next (on the stand-in, 4
    // streams of 5,000 insert ~45 % more per second than one of 20,000). All of them are waited for, even
    // when one fails: a retry must not start while a sibling write is still in flight.
    const chunks = evenChunks(docs, this.config.FLUSH_WRITE_STREAMS, MIN_WRITE_CHUNK);
    const results = await Promise.allSettled(
      chunks.map((chunk) =>
        orUnavailable(() => this.model.collection.insertMany(chunk, { ordered: false, timeoutMS })),
      ),
    );
    if (results.some((r) => r.status === 'rejected')) {
      // Indexes refused as duplicate keys, per chunk, shifted to the whole insert's; undefined for any other failure.
      const refused: number[] = [];
      let from = 0;
      let other: unknown;
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          const indexes = duplicateKeys(r.reason);
          if (indexes === undefined) other ??= r.reason;
          else for (const index of indexes) refused.push(from + index);
        }
        from += chunks[i]!.length;
      });
      if (other !== undefined) throw other;
      throw new ReadingsStoredMeanwhile(refused.length, results.find((r) => r.status === 'rejected')!.reason, refused);
    }
    return results.reduce((sum, r) => sum + (r.status === 'fulfilled' ? r.value.insertedCount : 0), 0);
  }

  /**
   * An index on the reading id for the worker's id check, where the server makes one: MongoDB 6.3+ indexes
   * measurement fields of a time-series collection, a regular collection always. A server that refuses it (an
   * older time-series collection) keeps the check on series_ts, which the query's sensor, metric and time bounds use.
   */
  private async ensureIdIndex(): Promise<void> {
    try {
      await this.model.collection.createIndex({ id: 1 }, { name: 'reading_id' });
    } catch (error) {
      this.logger.warn(`no index on the reading id (${(error as Error).message}); the id check uses series_ts`);
    }
  }

  /**
   * Fixed-width buckets aligned to the epoch, computed in MongoDB with operators that behave the same on
   * MongoDB 5-8 and the stand-in (no $dateTrunc): start = ts - (ts mod binMs).
   */
  async aggregateBuckets(q: BucketQuery): Promise<RawBucket[]> {
    const rows = await orUnavailable(() =>
      this.model.collection
        .aggregate<{ _id: number; count: number; avg: number; min: number; max: number; sum: number }>(
          bucketsPipeline(q),
        )
        .toArray(),
    );
    return rows.map((r) => ({
      start: Number(r._id),
      count: Number(r.count),
      avg: Number(r.avg),
      min: Number(r.min),
      max: Number(r.max),
      sum: Number(r.sum),
    }));
  }

  /**
   * Which of these readings are already stored, by readingKey (id, sensorId, metric), with what is stored (source
   * record, series, time, value).
   *
   * On a time-series collection (no unique index) the query is narrowed by sensor and time range so that it reads
   * only the buckets the readings would be in; `lookbackMs` widens the range backwards, for retried requests whose
   * readings took the time received. On a regular collection the readings are read by `_id` (readingDocId),
   * whatever their time: a key is stored there at most once, so `lookbackMs` does not apply.
   */
  async existingIds(points: readonly WirePoint[], lookbackMs = 0): Promise<Map<string, StoredCopy>> {
    if (points.length === 0) {
      return new Map();
    }
    if (this.keyedIds) {
      return storedCopies(await this.findByKeys(points));
    }
    let minTs = Infinity;
    let maxTs = -Infinity;
    for (const p of points) {
      minTs = Math.min(minTs, p.ts);
      maxTs = Math.max(maxTs, p.ts);
    }
    const sensors = [...new Set(points.map((p) => p.sensorId))];
    const metrics = [...new Set(points.map((p) => p.metric))];
    const found = await orUnavailable(() =>
      this.model.collection
        .find(
          {
            // The time range first; MongoDB uses series_ts (sensor, metric, ts) or reading_id whatever the order.
            ts: { $gte: new Date(minTs - lookbackMs), $lte: new Date(maxTs) },
            'meta.sensorId': { $in: sensors },
            'meta.metric': { $in: metrics },
            id: { $in: points.map((p) => p.id) },
          },
          { projection: STORED_COPY_PROJECTION },
        )
        .toArray(),
    );
    return storedCopies(found);
  }

  /**
   * The stored documents of these readings on a regular collection, by `_id` (readingDocId): lists of
   * ID_LOOKUP_LIST, ID_LOOKUPS_AT_ONCE at a time, so the cost follows the readings looked up and not the size of
   * the collection (on the stand-in every filter but one on a unique index scans the whole collection).
   */
  private async findByKeys(points: readonly WirePoint[]): Promise<Document[]> {
    return readInLists(points.map(readingDocId), ID_LOOKUP_LIST, ID_LOOKUPS_AT_ONCE, (list: ObjectId[]) =>
      this.model.collection.find({ _id: { $in: list } }, { projection: STORED_COPY_PROJECTION }).toArray(),
    );
  }

  /** Round trip to the server; rejects when it does not answer. */
  async ping(): Promise<void> {
    const db = this.connection.db;
    if (!db || this.connection.readyState !== 1) {
      throw new Error('MongoDB connection is not open');
    }
    await db.admin().command({ ping: 1 });
  }

  logCapabilities(caps: StorageCapabilities): void {
    if (caps.timeSeries) {
      this.logger.log(
        `MongoDB ${caps.serverVersion}: "${this.collectionName}" is a time-series collection (granularity ${this.config.TS_GRANULARITY})`,
      );
    } else {
      this.logger.warn(
        `MongoDB server ${caps.serverVersion} did not create a time-series collection (mongo-java-server stand-in or MongoDB < 5.0): ` +
          `"${this.collectionName}" is a regular collection with index (meta.sensorId, meta.metric, ts). ` +
          'Degraded: no time-series bucketing/compression, TTL not enforced. Use MongoDB 5.0+ in production.',
      );
    }
  }
}

/** What the id check reads of a stored reading. */
const STORED_COPY_PROJECTION = {
  _id: 0,
  id: 1,
  src: 1,
  ts: 1,
  value: 1,
  'meta.sensorId': 1,
  'meta.metric': 1,
  'meta.tags': 1,
} as const;

/** Stored documents by readingKey (the first of a key, should a time-series collection hold two). */
function storedCopies(found: readonly Document[]): Map<string, StoredCopy> {
  const stored = new Map<string, StoredCopy>();
  for (const d of found) {
    const sensorId = String(d.meta?.sensorId);
    const metric = String(d.meta?.metric);
    const key = readingKey({ id: String(d.id), sensorId, metric });
    if (!stored.has(key)) {
      stored.set(key, {
        src: typeof d.src === 'string' ? d.src : undefined,
        sensorId,
        metric,
        tags: d.meta?.tags && typeof d.meta.tags === 'object' ? (d.meta.tags as Record<string, string>) : undefined,
        ts: d.ts instanceof Date ? d.ts.getTime() : Number(d.ts),
        value: Number(d.value),
      });
    }
  }
  return stored;
}

/**
 * The indexes (in its chunk) of the documents an insert refused as duplicate keys, if that is all it refused;
 * undefined for any other failure.
 */
function duplicateKeys(error: unknown): number[] | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  const errors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY) ? errors.map((e) => e.index) : undefined;
}
