// Keeps the worker within the store's capacity: room for the next batch, one warning at 80 %, a halt when full.
import { Inject, Injectable, Logger } from '@nestjs/common';

import { capacityLevel, roomLeft, StoreCapacity, storeFullReason } from '@funnel/storage';

import { Backpressure } from './backpressure.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import type { StoreHold, WriteRoom } from './write-room.js';

/**
 * With MONGODB_CAPACITY_DOCS set, every batch is sized to the room left. When not one buffered record fits,
 * the worker stops writing (the batch stays buffered, nothing is committed), pauses consumption so that the
 * rest waits in Kafka, and says why in readiness and metrics; once room appears it carries on by itself.
 */
@Injectable()
export class StoreGate implements WriteRoom {
  private readonly logger = new Logger('Store');
  private warned = false;
  full: { held: number; reason: string } | undefined;

  constructor(
    private readonly capacity: StoreCapacity,
    @Inject(Backpressure) private readonly hold: StoreHold,
    private readonly metrics: PipelineMetrics,
  ) {
    this.metrics.observeStore(() => ({ held: this.capacity.lastHeld, capacity: this.capacity.capacity }));
  }

  async room(): Promise<number> {
    const limit = this.capacity.capacity;
    if (limit <= 0) {
      return Infinity;
    }
    // Near the limit each batch is judged on a new count: rollups and claims add documents too.
    const last = this.capacity.lastHeld;
    const held = await this.capacity.held({ fresh: last !== undefined && capacityLevel(last, limit, 0) !== 'ok' });
    if (held === undefined) {
      // Not counted yet (server unreachable): the write itself will fail and be retried.
      return Infinity;
    }
    this.warnIfNear(held, limit);
    const room = roomLeft(held, limit);
    if (this.full && room > 0) {
      this.logger.log(`room in the local store again (${held} of ${limit} documents held): writing resumes`);
      this.full = undefined;
      this.metrics.storeFull.set(0);
      this.hold.holdForStore(false);
    }
    return room;
  }

  stopForFullStore(): void {
    const held = this.capacity.lastHeld ?? this.capacity.capacity;
    if (this.full) {
      this.full.held = held;
      this.full.reason = storeFullReason(held);
      return;
    }
    this.full = { held, reason: storeFullReason(held) };
    this.metrics.storeFull.set(1);
    this.hold.holdForStore(true);
    this.logger.error(
      `${this.full.reason} (capacity ${this.capacity.capacity}, MONGODB_CAPACITY_DOCS): writing stopped and ` +
        'consumption paused; nothing is committed, the readings wait in Kafka',
    );
  }

  wrote(documents: number): void {
    this.capacity.noteWritten(documents);
    const held = this.capacity.lastHeld;
    if (held !== undefined && this.capacity.capacity > 0) {
      this.warnIfNear(held, this.capacity.capacity);
    }
  }

  /** One warning per process, not one per flush. */
  private warnIfNear(held: number, limit: number): void {
    if (this.warned || capacityLevel(held, limit, 0) === 'ok') {
      return;
    }
    this.warned = true;
    this.logger.warn(
      `local store ${Math.floor((held / limit) * 100)} % full: ${held} of ${limit} documents (MONGODB_CAPACITY_DOCS); ` +
        'at the limit the worker stops writing. Set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW',
    );
  }
}
