// The dead-letters collection: an idempotent copy of the dead-letter topic the api lists and replays.
import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection, Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import {
  DEAD_LETTER_MAX_CHARS,
  DEAD_LETTER_PREVIEW_CHARS,
  deadLettersCollection,
  type DeadLetter,
  type StoredDeadLetter,
} from './dead-letter.schema.js';

/** A dead letter read for a replay: its value whole, or `incomplete` saying why it is not. */
export type ReplayableLetter = DeadLetter & { incomplete?: string };

/** Which letters a replay claimed, and which another replay had claimed (or finished) before. */
export interface ReplayClaim {
  token: string;
  claimed: string[];
  taken: Array<{ id: string; replayedAt?: Date }>;
}

/** Copy of dead letters in MongoDB so the api can list and replay them without joining a consumer group. */
@Injectable()
export class DeadLettersRepository {
  private readonly collection: Collection<StoredDeadLetter>;

  constructor(@InjectConnection() connection: Connection, config: FunnelConfig) {
    this.collection = connection.collection<StoredDeadLetter>(deadLettersCollection(config));
  }

  /**
   * Records dead letters; idempotent (keyed by source position), so a replayed batch adds nothing. The value is
   * kept whole (preview + rest), so a replay publishes the record as it was, never a truncated one.
   */
  async record(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) {
      return;
    }
    await this.collection.bulkWrite(
      letters.map((letter) => ({
        updateOne: {
          filter: { _id: letter._id },
          update: { $setOnInsert: stored(letter) },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  /** Most recent first; values cut to their preview. */
  async list(limit: number, sourceTopic?: string): Promise<DeadLetter[]> {
    return this.collection
      .find(sourceTopic ? { sourceTopic } : {}, { projection: { valueRest: 0, valueLength: 0, replayClaim: 0 } })
      .sort({ deadLetteredAt: -1 })
      .limit(limit)
      .toArray();
  }

  /** The letters with their values whole, each marked `incomplete` when the store does not hold all of it. */
  async get(ids: readonly string[]): Promise<ReplayableLetter[]> {
    const docs = await this.collection.find({ _id: { $in: [...ids] } }).toArray();
    return docs.map(({ valueRest, valueLength, replayClaim: _claim, ...doc }) => {
      const value = doc.value + (valueRest ?? '');
      const incomplete =
        valueLength === undefined
          ? value.length >= DEAD_LETTER_PREVIEW_CHARS
            ? `stored before values were kept whole, and possibly cut to its first ${DEAD_LETTER_PREVIEW_CHARS} characters`
            : undefined
          : value.length < valueLength
            ? `its value (${valueLength} characters) is longer than the ${DEAD_LETTER_MAX_CHARS} the store keeps`
            : undefined;
      return { ...doc, value, ...(incomplete ? { incomplete } : {}) };
    });
  }

  /**
   * Compare-and-set: marks each letter replayed unless it already is (or another replay holds it). Letters claimed
   * here stay claimed only if all were: otherwise they are released and `taken` names the others.
   */
  async claimForReplay(ids: readonly string[]): Promise<ReplayClaim> {
    const token = randomUUID();
    const replayedAt = new Date();
    const results = await Promise.all(
      ids.map(async (id) => {
        const r = await this.collection.updateOne(
          { _id: id, replayedAt: { $exists: false } },
          { $set: { replayedAt, replayClaim: token } },
        );
        return [id, r.modifiedCount === 1] as const;
      }),
    );
    const claimed = results.filter(([, ok]) => ok).map(([id]) => id);
    const lost = results.filter(([, ok]) => !ok).map(([id]) => id);
    if (lost.length === 0) return { token, claimed, taken: [] };
    await this.releaseReplay(token);
    const others = await this.collection
      .find({ _id: { $in: lost } }, { projection: { _id: 1, replayedAt: 1 } })
      .toArray();
    return { token, claimed: [], taken: others.map((d) => ({ id: d._id, replayedAt: d.replayedAt })) };
  }

  /** The replay published its letters: they stay replayed (a second replay is refused). */
  async finishReplay(token: string): Promise<void> {
    await this.collection.updateMany({ replayClaim: token }, { $unset: { replayClaim: '' }, $inc: { replays: 1 } });
  }

  /** The replay did not publish: its letters may be replayed again. */
  async releaseReplay(token: string): Promise<void> {
    await this.collection.updateMany({ replayClaim: token }, { $unset: { replayClaim: '', replayedAt: '' } });
  }
}

/** The stored form of a letter: preview, rest (if it fits) and the value's length. */
function stored(letter: DeadLetter): StoredDeadLetter {
  const { value, ...rest } = letter;
  const preview = value.slice(0, DEAD_LETTER_PREVIEW_CHARS);
  const tail = value.length <= DEAD_LETTER_MAX_CHARS ? value.slice(DEAD_LETTER_PREVIEW_CHARS) : '';
  return { ...rest, value: preview, ...(tail ? { valueRest: tail } : {}), valueLength: value.length };
}
