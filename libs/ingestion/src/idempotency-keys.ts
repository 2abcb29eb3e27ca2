// Remembers which body each Idempotency-Key came with, so a key reused for another body is refused (422).
import { createHash } from 'node:crypto';

import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Collection } from 'mongodb';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

interface KeyDoc {
  /** SHA-256 of the key: keys are the client's text, stored only as a digest. */
  _id: string;
  /** SHA-256 of the body as parsed and serialized again. */
  body: string;
  at: Date;
}

/** What a request's key says about its body. */
export type KeyUse = 'first' | 'same-body' | 'other-body';

/**
 * Idempotency-Key -> body fingerprint in `<MONGODB_COLLECTION>_idempotency`, for IDEMPOTENCY_WINDOW_MS (the same
 * window the worker's id check uses). The same key with the same body is a retry and goes on (the readings get
 * the same ids, so they are stored once); with another body it would silently drop readings that share an index
 * with the first body, so it is refused, as Stripe does. While MongoDB cannot answer, the check is skipped
 * (logged): the write path depends on Kafka alone, and a retry is still safe by its ids.
 */
@Injectable()
export class IdempotencyKeys {
  private readonly logger = new Logger('Idempotency');
  private readonly collection: Collection<KeyDoc>;
  /** Until when the check is skipped after MongoDB failed to answer, so requests do not each wait for a timeout. */
  private skipUntil = 0;

  constructor(
    @InjectConnection() connection: Connection,
    private readonly config: FunnelConfig,
  ) {
    this.collection = connection.collection(
      `${config.MONGODB_COLLECTION}_idempotency`,
    ) as unknown as Collection<KeyDoc>;
  }

  async use(key: string, body: unknown, now = new Date()): Promise<KeyUse> {
    if (now.getTime() < this.skipUntil) return 'first';
    const _id = digest(key);
    const fingerprint = digest(JSON.stringify(body));
    try {
      const claimed = await this.collection.updateOne(
        { _id },
        { $setOnInsert: { _id, body: fingerprint, at: now } },
        { upsert: true },
      );
      if (claimed.upsertedCount === 1) return 'first';
      const held = await this.collection.findOne({ _id });
      if (!held || held.body === fingerprint) return 'same-body';
      if (now.getTime() - held.at.getTime() > this.config.IDEMPOTENCY_WINDOW_MS) {
        // Past the window the key is free again, as the worker's id check forgets it too.
        await this.collection.updateOne({ _id, at: held.at }, { $set: { body: fingerprint, at: now } });
        return 'first';
      }
      return 'other-body';
    } catch (error) {
      this.skipUntil = Date.now() + SKIP_AFTER_FAILURE_MS;
      this.logger.warn(`Idempotency-Key check skipped: MongoDB did not answer (${(error as Error).message})`);
      return 'first';
    }
  }
}

const SKIP_AFTER_FAILURE_MS = 5_000;

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
