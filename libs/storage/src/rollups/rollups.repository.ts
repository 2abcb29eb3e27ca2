// The minute-rollups collection: replaces a batch's rollups, deletes a partition's from an offset, aggregates.
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { rollupBucketsPipeline, type BucketQuery } from '../aggregation-pipeline.js';
import { orUnavailable } from '../storage-errors.js';
import { rollupsCollection, type RollupDoc } from './rollup.schema.js';

/** Count/sum/min/max of one bucket from rollups (no avg: the caller divides). */
export interface RollupBucket {
  start: number;
  count: number;
  min: number;
  max: number;
  sum: number;
}

/**
 * Minute rollups in the regular collection `<MONGODB_COLLECTION>_rollups`, written by the worker at flush time
 * (one document per flush slice, series and minute) and read by GET /v1/aggregates.
 */
@Injectable()
export class RollupsRepository {
  private readonly collection: Collection<RollupDoc>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    this.collection = connection.collection<RollupDoc>(rollupsCollection(config));
  }

  /** Indexes for real MongoDB (the stand-in accepts and ignores them): series queries and the claim's reset. */
  async ensureIndexes(): Promise<void> {
    await this.collection.createIndex({ s: 1, m: 1, ts: 1 }, { name: 'series_ts' });
    await this.collection.createIndex({ t: 1, p: 1, o: 1 }, { name: 'partition_offset' });
  }

  /**
   * Replaces (or creates) each rollup by its key, unordered. Replace, not increment: a retried batch can cover
   * more records under the same key, and its document must then say exactly what that batch holds.
   */
  async write(docs: readonly RollupDoc[], timeoutMS: number): Promise<void> {
    if (docs.length === 0) {
      return;
    }
    await orUnavailable(() =>
      this.collection.bulkWrite(
        docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
        { ordered: false, timeoutMS },
      ),
    );
  }

  /** Deletes the rollups of a partition's slices starting at `offset` or later (uncommitted: they are replayed). */
  async deleteFrom(topic: string, partition: number, offset: number, timeoutMS: number): Promise<number> {
    const result = await orUnavailable(() =>
      this.collection.deleteMany({ t: topic, p: partition, o: { $gte: offset } }, { timeoutMS }),
    );
    return result.deletedCount;
  }

  async aggregateBuckets(q: BucketQuery): Promise<RollupBucket[]> {
    const rows = await orUnavailable(() =>
      this.collection
        .aggregate<{ _id: number; count: number; min: number; max: number; sum: number }>(rollupBucketsPipeline(q))
        .toArray(),
    );
    return rows.map((r) => ({
      start: Number(r._id),
      count: Number(r.count),
      min: Number(r.min),
      max: Number(r.max),
      sum: Number(r.sum),
    }));
  }
}
