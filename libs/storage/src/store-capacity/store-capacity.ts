// Counts the documents the store holds, cheaply and at most every few seconds, against MONGODB_CAPACITY_DOCS.
import { Injectable, Logger } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { storeFullReason } from './capacity-level.js';

/** How old a count may be before it is taken again; writes in between are added to it. */
const COUNT_TTL_MS = 2000;
const COUNT_TIMEOUT_MS = 2000;

/**
 * The documents held over every collection of the database (estimatedDocumentCount: collection metadata,
 * no scan), for a store with a known capacity such as devstack's in-memory stand-in. Without a capacity
 * (a real MongoDB) it never asks the server.
 */
@Injectable()
export class StoreCapacity {
  private readonly logger = new Logger('StoreCapacity');
  private counted?: { at: number; held: number };
  private counting?: Promise<number | undefined>;
  /** Set by the worker while it cannot write for want of room; MongoDB's readiness reports it. */
  private fullAt?: number;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly config: FunnelConfig,
  ) {}

  /** Documents the store can hold; 0 means no limit. */
  get capacity(): number {
    return this.config.MONGODB_CAPACITY_DOCS;
  }

  /** The last count (plus what was written since), without asking the server; undefined before the first. */
  get lastHeld(): number | undefined {
    return this.counted?.held;
  }

  /**
   * Documents held: the cached count while fresh (unless `fresh`), else a new one; undefined if the server
   * did not answer.
   */
  async held({ fresh = false }: { fresh?: boolean } = {}): Promise<number | undefined> {
    if (this.capacity <= 0) {
      return 0;
    }
    if (!fresh && this.counted && Date.now() - this.counted.at < COUNT_TTL_MS) {
      return this.counted.held;
    }
    // One count at a time: a store that stopped answering must not collect a pile of waiting counts.
    this.counting ??= this.count().finally(() => (this.counting = undefined));
    return this.counting;
  }

  /** While the worker has stopped writing because the store is full: the documents held and the reason. */
  get full(): { held: number; reason: string } | undefined {
    return this.fullAt === undefined ? undefined : { held: this.fullAt, reason: storeFullReason(this.fullAt) };
  }

  /** The worker stopped writing (`held` documents) or, with undefined, writes again. */
  setFull(held: number | undefined): void {
    this.fullAt = held;
  }

  /** Adds documents just written to the cached count, so that each batch is judged against an up-to-date figure. */
  noteWritten(documents: number): void {
    if (this.counted) {
      this.counted.held += documents;
    }
  }

  private async count(): Promise<number | undefined> {
    const db = this.connection.db;
    if (!db || this.connection.readyState !== 1) {
      return this.counted?.held;
    }
    try {
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      const counts = await Promise.all(
        collections
          .filter((c) => !c.name.startsWith('system.'))
          .map((c) => db.collection(c.name).estimatedDocumentCount({ maxTimeMS: COUNT_TIMEOUT_MS })),
      );
      const held = counts.reduce((sum, n) => sum + n, 0);
      this.counted = { at: Date.now(), held };
      return held;
    } catch (error) {
      this.logger.debug(`count failed: ${(error as Error).message}`);
      return this.counted?.held;
    }
  }
}
