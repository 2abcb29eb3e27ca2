// The tier collections: slices, compacted minutes, hours and days, and dirty marks, with compare-and-set writes.
import { randomBytes } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { AnyBulkWriteOperation, Collection, Filter } from 'mongodb';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { readInLists } from '../in-lists.js';
import { orUnavailable } from '../storage-errors.js';
import type { SeriesSelector } from './bucket-stats.js';
import {
  takeWithinMinutes,
  tierCollections,
  type DirtyMark,
  type SliceDoc,
  type SliceTake,
  type Tier,
  type TierDoc,
} from './tier.schema.js';

const DUPLICATE_KEY = 11000;
/**
 * Ids per `_id: {$in}` on the stand-in, and such queries in flight at once. It serves them from its `_id` index,
 * but their cost grows faster than the list: 5,000 ids over 600,000 documents took 81 ms in lists of 100, 297 ms
 * in lists of 1,000 and 1.3 s in one list, and 809 ms as 5,000 point lookups, which also cost the driver about
 * 150 µs of CPU each (against 7 µs per id in lists of 100).
 */
const STAND_IN_IN_LIST = 100;
const IN_LISTS_AT_ONCE = 4;
/**
 * A tier scan on the stand-in as this many reads at once, each over a quarter of the series keys (an `_id` range:
 * keys are base64url hashes, so their first characters spread evenly). The server scans the whole collection for
 * each, but the parts decode in parallel: 24,000 hour documents of 1,000 series (projected for avg and p95) took
 * 262 ms as 4 parts against 312 ms as one read (medians of 7, test/bench/fleet-read.ts, mongo-java-server 1.47.0).
 * A real MongoDB reads by its series index instead.
 */
const STAND_IN_SCAN_SPLIT = ['F', 'V', 'k'];
/** How long a tier's estimated count serves query plans. */
const COUNT_TTL_MS = 10_000;
/** Slices per cursor batch of a compaction read (an hour-long slice holds up to 60 minutes). */
const SLICE_BATCH = 100;

/** Random per process: tokens of two processes (workers, a rebuild) never meet. */
const TOKEN_PREFIX = randomBytes(9).toString('base64url');
let tokens = 0;

/**
 * A fresh write token: this process's prefix and a counter, so no two writes anywhere share one. A random token
 * per write cost the worker about 6.5 µs of CPU per reading of a sparse series in a backfill (its profile).
 */
export function writeToken(): string {
  return `${TOKEN_PREFIX}${(++tokens).toString(36)}`;
}

/** A half-open time range [from, to) in epoch ms. */
export interface TimeRange {
  from: number;
  to: number;
}

/** The filter of a series selector on tier documents (fields s, m, ga). */
export function selectorFilter(selector: SeriesSelector): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  filter.m = selector.metrics.length === 1 ? selector.metrics[0] : { $in: [...selector.metrics] };
  const s: Record<string, unknown> = {};
  if (selector.sensorIds && selector.sensorIds.length > 0) s.$in = [...selector.sensorIds];
  if (selector.sensorPrefix) s.$regex = `^${selector.sensorPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  if (Object.keys(s).length > 0) filter.s = s;
  const tags = Object.entries(selector.tags ?? {}).map(([key, value]) => `${key}=${value}`);
  if (tags.length > 0) filter.ga = { $all: tags };
  return filter;
}

/** `ts` inside any of the ranges (one range, or an $or of a few). */
function inRanges(ranges: readonly TimeRange[]): Record<string, unknown> {
  const one = (r: TimeRange) => ({ ts: { $gte: new Date(r.from), $lt: new Date(r.to) } });
  return ranges.length === 1 ? one(ranges[0]!) : { $or: ranges.map(one) };
}

/**
 * The collections of the rollup tiers. Every write that replaces a tier document is a compare-and-set on its
 * write token, so two workers (or a worker and a rebuild) never overwrite each other's newer version.
 */
@Injectable()
export class TierStore {
  readonly slices: Collection<SliceDoc>;
  readonly dirty: Collection<DirtyMark>;
  private readonly tiers: Record<Tier, Collection<TierDoc>>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    const names = tierCollections(config);
    this.slices = connection.collection<SliceDoc>(names.slices);
    this.dirty = connection.collection<DirtyMark>(names.dirty);
    this.tiers = {
      minute: connection.collection<TierDoc>(names.minute),
      hour: connection.collection<TierDoc>(names.hour),
      day: connection.collection<TierDoc>(names.day),
    };
  }

  /**
   * Set where the server serves only unique indexes and scans for every other filter (the mongo-java-server
   * stand-in, which also makes no time-series collection): a compare-and-set filter `{_id, w}` there scans the
   * collection without an index of its own, and so does a series query `{s, m, ts}`. Compaction's reads and
   * writes then go by id, and so do the tier reads of queries where that reads less (see TierReader).
   */
  private uniqueIndexesOnly = false;
  /** Per tier, its document count and when it was taken (a query's plan needs only its size's order). */
  private readonly counts = new Map<Tier, { n: number; at: number }>();

  /** Whether the server uses only unique indexes (see ensureIndexes): reads by id then beat scans. */
  get readsById(): boolean {
    return this.uniqueIndexesOnly;
  }

  /** The tier's estimated document count, at most COUNT_TTL_MS old. */
  async estimatedCount(tier: Tier, maxTimeMS: number): Promise<number> {
    const seen = this.counts.get(tier);
    if (seen && Date.now() - seen.at < COUNT_TTL_MS) return seen.n;
    const n = await orUnavailable(() => this.tiers[tier].estimatedDocumentCount({ maxTimeMS }));
    this.counts.set(tier, { n, at: Date.now() });
    return n;
  }

  tier(tier: Tier): Collection<TierDoc> {
    return this.tiers[tier];
  }

  /**
   * Indexes: series queries, claims, marks (TTLs are RetentionPlan's). `timeSeries` says whether the server
   * made a time-series collection; where it did not (the stand-in), the compare-and-set filters `{_id, w}` get
   * a unique index of their own, the only kind that server uses (on a real MongoDB `_id` serves them).
   */
  async ensureIndexes(timeSeries = true): Promise<void> {
    this.uniqueIndexesOnly = !timeSeries;
    if (this.uniqueIndexesOnly) {
      for (const collection of [...Object.values(this.tiers), this.dirty])
        await (collection as unknown as Collection).createIndex({ _id: 1, w: 1 }, { name: 'id_token', unique: true });
    }
    await this.slices.createIndex({ t: 1, p: 1, o: 1 }, { name: 'partition_offset' });
    await this.slices.createIndex({ s: 1, m: 1, ts: 1 }, { name: 'series_ts' });
    await this.dirty.createIndex({ tier: 1, ts: 1 }, { name: 'tier_ts' });
    for (const tier of ['minute', 'hour', 'day'] as const) {
      await this.tiers[tier].createIndex({ s: 1, m: 1, ts: 1 }, { name: 'series_ts' });
      await this.tiers[tier].createIndex({ k: 1, ts: 1 }, { name: 'key_ts' });
    }
  }

  /**
   * Replaces (or creates) each slice by its key: a retried batch's slice says exactly what that batch holds.
   * Inserted first (a plain insert costs the store a fraction of an upsert, and a slice's key is new unless its
   * batch is retried); the slices whose key is already there are then replaced.
   */
  async writeSlices(docs: readonly SliceDoc[], timeoutMS: number): Promise<void> {
    if (docs.length === 0) return;
    let taken: SliceDoc[] = [];
    try {
      await orUnavailable(() => this.slices.insertMany([...docs], { ordered: false, timeoutMS }));
    } catch (error) {
      if (!onlyDuplicateKeys(error)) throw error;
      taken = duplicateIndexes(error, docs.length).map((i) => docs[i]!);
    }
    if (taken.length === 0) return;
    await orUnavailable(() =>
      this.slices.bulkWrite(
        taken.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false, timeoutMS },
      ),
    );
  }

  /** Deletes a partition's slices starting at `offset` or later (uncommitted: they are replayed). */
  async deleteSlicesFrom(topic: string, partition: number, offset: number, timeoutMS: number): Promise<number> {
    const result = await orUnavailable(() =>
      this.slices.deleteMany({ t: topic, p: partition, o: { $gte: offset } }, { timeoutMS }),
    );
    return result.deletedCount;
  }

  /**
   * Committed slices of a partition (first offset below `below`), lowest offsets first, as many as fit in
   * `maxMinutes` (see takeWithinMinutes). Read in small batches and the cursor closed at the bound: reading a
   * fixed count of slices held up to 60 minutes each, 300,000 minutes for a 5,000-minute round of a backfill.
   */
  async committedSlices(topic: string, partition: number, below: number, maxMinutes: number): Promise<SliceTake> {
    return orUnavailable(async () => {
      const cursor = this.slices.find(
        { t: topic, p: partition, o: { $lt: below } },
        // Every slice holds at least one minute, so maxMinutes + 1 slices always decide `more`.
        { sort: { o: 1 }, limit: maxMinutes + 1, batchSize: SLICE_BATCH },
      );
      try {
        return await takeWithinMinutes(cursor, maxMinutes);
      } finally {
        await cursor.close();
      }
    });
  }

  /** Deletes slices by id: one delete per id, which every server serves from `_id`. */
  async deleteSlices(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await orUnavailable(() =>
      this.slices.bulkWrite(
        ids.map((_id) => ({ deleteOne: { filter: { _id } } })),
        { ordered: false },
      ),
    );
  }

  /** Documents by id; with a projection, only those fields (see TierReader's tierProjection). */
  async byIds(
    tier: Tier,
    ids: readonly string[],
    maxTimeMS?: number,
    projection?: Record<string, 1>,
  ): Promise<Map<string, TierDoc>> {
    const docs = await this.findByIds(this.tiers[tier], ids, projection, maxTimeMS);
    return new Map(docs.map((d) => [d._id, d]));
  }

  /** The documents with these ids: one `$in`, or on the stand-in `$in` lists of STAND_IN_IN_LIST ids. */
  private async findByIds<T extends { _id: string }>(
    collection: Collection<T>,
    ids: readonly string[],
    projection?: Record<string, 1>,
    maxTimeMS?: number,
  ): Promise<T[]> {
    if (ids.length === 0) return [];
    if (!this.uniqueIndexesOnly)
      return orUnavailable(
        () =>
          collection.find({ _id: { $in: [...ids] } } as Filter<T>, { projection, maxTimeMS }).toArray() as Promise<T[]>,
      );
    return readInLists(
      ids,
      STAND_IN_IN_LIST,
      IN_LISTS_AT_ONCE,
      (list) =>
        collection.find({ _id: { $in: list } } as Filter<T>, { projection, maxTimeMS }).toArray() as Promise<T[]>,
    );
  }

  /**
   * Documents of the selected series in any of the ranges (with a projection, only those fields); on the
   * stand-in read as STAND_IN_SCAN_SPLIT parts at once.
   */
  async selected(
    tier: Tier,
    selector: SeriesSelector,
    ranges: readonly TimeRange[],
    maxTimeMS: number,
    projection?: Record<string, 1>,
  ): Promise<TierDoc[]> {
    if (ranges.length === 0) return [];
    const filter = { ...selectorFilter(selector), ...inRanges(ranges) };
    const read = (part: Record<string, unknown>) =>
      orUnavailable(() =>
        this.tiers[tier].find({ ...filter, ...part } as Filter<TierDoc>, { maxTimeMS, projection }).toArray(),
      );
    if (!this.uniqueIndexesOnly) return read({});
    const bounds = [undefined, ...STAND_IN_SCAN_SPLIT, undefined];
    const parts = await Promise.all(
      bounds.slice(0, -1).map((low, i) => {
        const high = bounds[i + 1];
        return read({
          _id: { ...(low === undefined ? {} : { $gte: low }), ...(high === undefined ? {} : { $lt: high }) },
        });
      }),
    );
    return parts.flat();
  }

  async selectedSlices(selector: SeriesSelector, ranges: readonly TimeRange[], maxTimeMS: number): Promise<SliceDoc[]> {
    if (ranges.length === 0) return [];
    const filter = { ...selectorFilter(selector), ...inRanges(ranges) } as Filter<SliceDoc>;
    return orUnavailable(() => this.slices.find(filter, { maxTimeMS }).toArray());
  }

  async selectedMarks(
    selector: SeriesSelector,
    tier: DirtyMark['tier'],
    ranges: readonly TimeRange[],
    maxTimeMS: number,
  ): Promise<DirtyMark[]> {
    if (ranges.length === 0) return [];
    const filter = { ...selectorFilter(selector), tier, ...inRanges(ranges) } as Filter<DirtyMark>;
    return orUnavailable(() => this.dirty.find(filter, { maxTimeMS, projection: { tier: 1, ts: 1 } }).toArray());
  }

  /**
   * Compare-and-set writes: each document replaces the version whose token is `expect` (or is inserted when
   * `expect` is undefined and none exists). Returns the ids whose write took effect; the others lost a race.
   */
  async compareAndSet(tier: Tier, items: ReadonlyArray<{ doc: TierDoc; expect?: string }>): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const collection = this.tiers[tier];
    const ops: AnyBulkWriteOperation<TierDoc>[] = items.map(({ doc, expect }) =>
      expect === undefined
        ? { insertOne: { document: doc } }
        : { replaceOne: { filter: { _id: doc._id, w: expect }, replacement: doc } },
    );
    let refused = new Set<number>();
    try {
      await orUnavailable(() => collection.bulkWrite(ops, { ordered: false }));
    } catch (error) {
      if (!onlyDuplicateKeys(error)) throw error;
      refused = new Set(duplicateIndexes(error, ops.length));
    }
    // An insert not refused took effect. Whether a replace matched its token the answer does not say per
    // operation: those are read back.
    const won = new Set<string>();
    const tokens = new Map<string, string>();
    items.forEach(({ doc, expect }, i) => {
      if (expect !== undefined) tokens.set(doc._id, doc.w);
      else if (!refused.has(i)) won.add(doc._id);
    });
    const now = await this.findByIds(collection, [...tokens.keys()], { w: 1 });
    for (const d of now) if (d.w === tokens.get(d._id)) won.add(d._id);
    return won;
  }

  /** Marks coarser-tier documents dirty (a new token each time, so a recompute in flight does not clear it). */
  async mark(marks: ReadonlyArray<Omit<DirtyMark, 'w'>>): Promise<void> {
    if (marks.length === 0) return;
    const unique = new Map(marks.map((m) => [m._id, m]));
    await orUnavailable(() =>
      this.dirty.bulkWrite(
        [...unique.values()].map(({ _id, ...fields }) => ({
          updateOne: { filter: { _id }, update: { $set: { ...fields, w: writeToken() } }, upsert: true },
        })),
        { ordered: false },
      ),
    );
  }

  async marksOf(tier: DirtyMark['tier'], limit: number): Promise<DirtyMark[]> {
    return orUnavailable(() => this.dirty.find({ tier }).sort({ ts: 1 }).limit(limit).toArray());
  }

  /** Clears each mark only if it is still the version seen (a newer mark stays). */
  async clearMarks(marks: ReadonlyArray<Pick<DirtyMark, '_id' | 'w'>>): Promise<void> {
    if (marks.length === 0) return;
    await orUnavailable(() =>
      this.dirty.bulkWrite(
        marks.map(({ _id, w }) => ({ deleteOne: { filter: { _id, w } } })),
        { ordered: false },
      ),
    );
  }
}

type WriteErrors = { code?: number; index?: number; writeErrors?: WriteError[] | WriteError };
type WriteError = { code?: number; index?: number };

function writeErrorsOf(error: unknown): WriteError[] {
  const e = error as WriteErrors;
  if (e.writeErrors) return Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
  return [e];
}

function onlyDuplicateKeys(error: unknown): boolean {
  const list = writeErrorsOf(error);
  return list.length > 0 && list.every((w) => w.code === DUPLICATE_KEY);
}

/**
 * The indexes, in the operations sent, of those refused for a duplicate key. Without an index on every error
 * (a server that does not say which) every operation is taken as refused: replacing one again is harmless.
 */
function duplicateIndexes(error: unknown, sent: number): number[] {
  const list = writeErrorsOf(error);
  if (list.every((w) => typeof w.index === 'number')) return list.map((w) => w.index!);
  return Array.from({ length: sent }, (_, i) => i);
}
