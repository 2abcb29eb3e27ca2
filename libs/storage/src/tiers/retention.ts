// Retention per tier: TTL on MongoDB (time-series expireAfterSeconds, TTL indexes), a bounded sweep elsewhere.
import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { orUnavailable } from '../storage-errors.js';
import { retentionMs } from './tier.compactor.js';
import { DAY_MS, tierCollections, TIERS, type Tier } from './tier.schema.js';

/** Name of the TTL index on each rollup tier's `ts`. */
export const TTL_INDEX = 'ttl_ts';
/** A sweep round deletes at most this span of time per collection (from its oldest document). */
const SWEEP_SPAN_MS = DAY_MS;
const INDEX_OPTIONS_CONFLICT = 85;
const INDEX_NOT_FOUND = 27;

/** What retention asks of the server, per collection: expireAfterSeconds, or undefined (kept forever). */
export function retentionPlan(
  config: FunnelConfig,
): Array<{ source: Tier | 'raw'; collection: string; expireAfterSeconds?: number }> {
  const names = tierCollections(config);
  const seconds = (source: Tier | 'raw') => {
    const keep = retentionMs(config, source);
    return keep === 0 ? undefined : Math.ceil(keep / 1000);
  };
  return [
    { source: 'raw', collection: config.MONGODB_COLLECTION, expireAfterSeconds: seconds('raw') },
    ...TIERS.map((tier) => ({ source: tier, collection: names[tier], expireAfterSeconds: seconds(tier) })),
  ];
}

/**
 * Applies retention: on MongoDB the time-series collection's expireAfterSeconds and a TTL index per rollup
 * tier (the server deletes, within its TTL monitor's minute); on a server that enforces no TTL (the
 * stand-in), the worker's sweep deletes what is past retention, a day of each collection per round.
 */
@Injectable()
export class RetentionKeeper {
  private readonly logger = new Logger('Retention');

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly config: FunnelConfig,
  ) {}

  /** Sets the TTL options on the collections (idempotent; follows a changed setting). */
  async applyTtl(timeSeries: boolean): Promise<void> {
    const db = this.connection.db!;
    for (const { source, collection, expireAfterSeconds } of retentionPlan(this.config)) {
      if (source === 'raw') {
        if (timeSeries) {
          await db.command({ collMod: collection, expireAfterSeconds: expireAfterSeconds ?? 'off' });
        }
        continue;
      }
      const coll = db.collection(collection);
      if (expireAfterSeconds === undefined) {
        await coll.dropIndex(TTL_INDEX).catch((error: { code?: number }) => {
          if (error.code !== INDEX_NOT_FOUND && !/not found/i.test(String(error))) throw error;
        });
        continue;
      }
      try {
        await coll.createIndex({ ts: 1 }, { name: TTL_INDEX, expireAfterSeconds });
      } catch (error) {
        if ((error as { code?: number }).code !== INDEX_OPTIONS_CONFLICT) throw error;
        await db.command({ collMod: collection, index: { name: TTL_INDEX, expireAfterSeconds } });
      }
    }
  }

  /** One bounded sweep over every collection with a retention; returns the documents deleted. */
  async sweep(now: number): Promise<number> {
    const db = this.connection.db!;
    let deleted = 0;
    for (const { source, collection } of retentionPlan(this.config)) {
      const keep = retentionMs(this.config, source);
      if (keep === 0) continue;
      const cutoff = now - keep;
      const coll = db.collection(collection);
      const oldest = await orUnavailable(() =>
        coll
          .find({}, { projection: { ts: 1 } })
          .sort({ ts: 1 })
          .limit(1)
          .toArray(),
      );
      const first = oldest[0]?.ts instanceof Date ? oldest[0].ts.getTime() : undefined;
      if (first === undefined || first >= cutoff) continue;
      const until = Math.min(cutoff, first + SWEEP_SPAN_MS);
      const result = await orUnavailable(() => coll.deleteMany({ ts: { $lt: new Date(until) } }));
      deleted += result.deletedCount;
      if (result.deletedCount > 0) {
        this.logger.log(
          `${source}: deleted ${result.deletedCount} documents older than ${new Date(until).toISOString()}`,
        );
      }
    }
    return deleted;
  }
}
