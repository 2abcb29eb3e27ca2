// The dead-letters collection: an idempotent copy of the dead-letter topic the api lists and replays.
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { deadLettersCollection, type DeadLetter } from './dead-letter.schema.js';

const MAX_VALUE_CHARS = 64 * 1024;

/** Copy of dead letters in MongoDB so the api can list and replay them without joining a consumer group. */
@Injectable()
export class DeadLettersRepository {
  private readonly collection: Collection<DeadLetter>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    this.collection = connection.collection<DeadLetter>(deadLettersCollection(config));
  }

  /** Records dead letters; idempotent (keyed by source position), so a replayed batch adds nothing. */
  async record(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) {
      return;
    }
    await this.collection.bulkWrite(
      letters.map((letter) => ({
        updateOne: {
          filter: { _id: letter._id },
          update: { $setOnInsert: { ...letter, value: letter.value.slice(0, MAX_VALUE_CHARS) } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Most recent first. */
  async list(limit: number, sourceTopic?: string): Promise<DeadLetter[]> {
    return this.collection
      .find(sourceTopic ? { sourceTopic } : {})
      .sort({ deadLetteredAt: -1 })
      .limit(limit)
      .toArray();
  }

  async get(ids: readonly string[]): Promise<DeadLetter[]> {
    return this.collection.find({ _id: { $in: [...ids] } }).toArray();
  }

  async markReplayed(ids: readonly string[]): Promise<void> {
    await this.collection.updateMany(
      { _id: { $in: [...ids] } },
      { $set: { replayedAt: new Date() }, $inc: { replays: 1 } },
    );
  }
}
