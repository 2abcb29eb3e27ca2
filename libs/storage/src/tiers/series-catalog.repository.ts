// The series catalog: per series its sensorId, metric, tags, first and last timestamp and count.
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { MongoServerError, type Collection, type Filter } from 'mongodb';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { orUnavailable } from '../storage-errors.js';
import type { SeriesId, SeriesSelector } from './bucket-stats.js';
import { ReadTimedOut } from './raw-stats.reader.js';
import { seriesCatalogCollection, type SeriesCatalogDoc, type SeriesEntry } from './series-catalog.schema.js';
import type { SeriesFields } from './series-key.js';
import { selectorFilter } from './tier.store.js';

/** What compaction adds to a series' entry. */
export interface CatalogUpdate {
  series: SeriesFields;
  n: number;
  first: number;
  last: number;
}

/** Which series to list: any metric when `metrics` is empty. */
export type CatalogSelector = Omit<SeriesSelector, 'metrics'> & { metrics?: readonly string[] };

/**
 * The catalog, updated by compaction as slices become minute documents ($inc of the count, $min / $max of
 * the first and last time), so it holds every series with compacted readings. Its count is what compaction
 * merged: a worker killed between a minute write and its catalog update under-counts by that slice.
 */
@Injectable()
export class SeriesCatalogRepository {
  private readonly collection: Collection<SeriesCatalogDoc>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    this.collection = connection.collection<SeriesCatalogDoc>(seriesCatalogCollection(config));
  }

  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ m: 1, s: 1 }, { name: 'metric_sensor' });
  }

  async record(updates: readonly CatalogUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await orUnavailable(() =>
      this.collection.bulkWrite(
        updates.map(({ series, n, first, last }) => ({
          updateOne: {
            filter: { _id: series.k },
            update: {
              $setOnInsert: { s: series.s, m: series.m, g: series.g, ga: series.ga },
              $inc: { n },
              $min: { first: new Date(first) },
              $max: { last: new Date(last) },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
  }

  /**
   * Puts series in the catalog before their first tier document is written (count 0 until compaction adds
   * it), so every series with tier documents is listed: readers that go by id find its key here.
   */
  async register(updates: readonly CatalogUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    await orUnavailable(() =>
      this.collection.bulkWrite(
        updates.map(({ series, first, last }) => ({
          updateOne: {
            filter: { _id: series.k },
            update: {
              $setOnInsert: { s: series.s, m: series.m, g: series.g, ga: series.ga, n: 0 },
              $min: { first: new Date(first) },
              $max: { last: new Date(last) },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
  }

  /** The keys of the series a selector matches, or undefined when more than `limit` match. */
  async keys(selector: SeriesSelector, limit: number, maxTimeMS: number): Promise<string[] | undefined> {
    const docs = await orUnavailable(() =>
      this.collection
        .find(selectorFilter(selector) as Filter<SeriesCatalogDoc>, { projection: { _id: 1 }, maxTimeMS })
        .limit(limit + 1)
        .toArray(),
    );
    return docs.length > limit ? undefined : docs.map((d) => d._id);
  }

  /**
   * The series a selector matches whose readings span overlaps [from, to) (first before `to`, last at or after
   * `from`), read a batch at a time: a caller that has seen enough closes it early.
   */
  async *overlapping(selector: SeriesSelector, from: number, to: number, maxTimeMS: number): AsyncIterable<SeriesId> {
    const filter = { ...selectorFilter(selector), first: { $lt: new Date(to) }, last: { $gte: new Date(from) } };
    const cursor = this.collection.find(filter as Filter<SeriesCatalogDoc>, {
      projection: { _id: 0, s: 1, m: 1, g: 1 },
      batchSize: 1000,
      maxTimeMS,
    });
    try {
      for (;;) {
        const doc = await orUnavailable(() => cursor.next()).catch((error: unknown) => {
          // MongoDB's code for an operation stopped by its maxTimeMS.
          throw error instanceof MongoServerError && error.code === 50 ? new ReadTimedOut(maxTimeMS) : error;
        });
        if (!doc) return;
        yield { sensorId: doc.s, metric: doc.m, tags: doc.g ?? {} };
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  /** Series in key order after `cursor` (an opaque series key), at most `limit`; `next` when more follow. */
  async list(
    selector: CatalogSelector,
    limit: number,
    cursor?: string,
  ): Promise<{ series: SeriesEntry[]; next?: string }> {
    const filter: Record<string, unknown> = selectorFilter({ ...selector, metrics: selector.metrics ?? [] });
    if (!selector.metrics || selector.metrics.length === 0) delete filter.m;
    if (cursor) filter._id = { $gt: cursor };
    const docs = await orUnavailable(() =>
      this.collection
        .find(filter as Filter<SeriesCatalogDoc>)
        .sort({ _id: 1 })
        .limit(limit + 1)
        .toArray(),
    );
    const page = docs.slice(0, limit);
    return {
      series: page.map((d) => ({
        sensorId: d.s,
        metric: d.m,
        tags: d.g ?? {},
        firstTs: new Date(d.first).toISOString(),
        lastTs: new Date(d.last).toISOString(),
        count: Number(d.n),
      })),
      ...(docs.length > limit ? { next: page[page.length - 1]!._id } : {}),
    };
  }
}
