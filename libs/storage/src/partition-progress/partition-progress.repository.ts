// The partition-progress collection: stores claims (epochs) and write announcements per topic-partition.
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { progressCollection, type PartitionClaim, type ProgressDoc } from './partition-progress.schema.js';

/**
 * Per topic-partition bookkeeping in a small regular collection, used to store replayed readings at most
 * once: before writing a batch, the worker announces the highest offset it is about to write ("intent"),
 * fenced by the epoch it got when it claimed the partition. A new owner claims (bumping the epoch, which
 * fences the old owner) and learns up to which offset replayed readings may already be stored, and only
 * those are checked by id before insert.
 */
@Injectable()
export class PartitionProgressRepository {
  private readonly collection: Collection<ProgressDoc>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    this.collection = connection.collection<ProgressDoc>(progressCollection(config));
  }

  async claim(topic: string, partition: number, owner: string): Promise<PartitionClaim> {
    const doc = await this.collection.findOneAndUpdate(
      { _id: `${topic}:${partition}` },
      { $inc: { epoch: 1 }, $set: { owner } },
      { upsert: true, returnDocument: 'after' },
    );
    if (!doc) {
      throw new Error(`claim of ${topic}:${partition} returned nothing`);
    }
    return { epoch: doc.epoch, intentThrough: doc.intentThrough, intentAt: doc.intentAt, intentOwner: doc.intentOwner };
  }

  /**
   * Announces that offsets up to `through` are about to be written. Resolves false when the epoch is stale
   * (another owner claimed the partition since): the caller must not write those readings.
   */
  async announce(topic: string, partition: number, epoch: number, through: number, owner: string): Promise<boolean> {
    // $max: a replaying owner announces lower offsets than an earlier owner may have written; keep the highest.
    const result = await this.collection.updateOne(
      { _id: `${topic}:${partition}`, epoch },
      { $max: { intentThrough: through }, $set: { intentAt: Date.now(), intentOwner: owner } },
    );
    return result.matchedCount === 1;
  }
}
