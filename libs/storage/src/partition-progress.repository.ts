import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

/** What a new owner of a partition learns when it claims it. */
export interface PartitionClaim {
  /** Fencing token: writes for this partition carry it; a later claim makes older owners' writes fail. */
  epoch: number;
  /** Highest offset any earlier owner may have written (announced before writing), if any. */
  intentThrough?: number;
  /** When that announcement was made (epoch ms), to wait out a write still in flight elsewhere. */
  intentAt?: number;
  intentOwner?: string;
}

interface ProgressDoc {
  _id: string;
  epoch: number;
  owner: string;
  intentThrough?: number;
  intentAt?: number;
  intentOwner?: string;
}

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
    this.collection = connection.collection<ProgressDoc>(`${config.MONGODB_COLLECTION}_partition_progress`);
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
