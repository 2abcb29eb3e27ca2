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

  constructor(
    private readonly capacity: StoreCapacity,
    @Inject(Backpressure) private readonly hold: StoreHold,
    private readonly metrics: PipelineMetrics,
  ) {
    this.metrics.observeStore(() => ({ held: this.capacity.lastHeld, capacity: this.capacity.capacity }));
  }

  /** Kept in StoreCapacity, where MongoDB's readiness check finds it. */
  get full(): { held: number; reason: string } | undefined {
    return this.capacity.full;
  }

  async room(): Promise<number> {
    const limit = this.capacity.capacity;
    if (limit <= 0) {
      return Infinity;
    }
    // Near the limit each batch is judged on a new count (rollups and claims add documents too); once full,
    // the count every few seconds is what notices room.
    const last = this.capacity.lastHeld;
    const near = last !== undefined && capacityLevel(last, limit, 0) !== 'ok';
    const held = await this.capacity.held({ fresh: near && !this.full });
    if (held === undefined) {
      // Not counted yet (server unreachable): the write itself will fail and be retried.
      return Infinity;
    }
    this.warnIfNear(held, limit);
    return roomLeft(held, limit);
  }

  stopForFullStore(): void {
    const held = this.capacity.lastHeld ?? this.capacity.capacity;
    const already = this.full !== undefined;
    this.capacity.setFull(held);
    if (already) {
      return;
    }
    this.metrics.storeFull.set(1);
    this.hold.holdForStore(true);
    this.logger.error(
      `${storeFullReason(held)} (capacity ${this.capacity.capacity}, MONGODB_CAPACITY_DOCS): writing stopped and ` +
        'consumption paused; nothing is committed, the readings wait in Kafka',
    );
  }

  wrote(documents: number): void {
    this.capacity.noteWritten(documents);
    if (this.full) {
      // A batch fitted again (documents deleted, or a higher capacity): carry on by ourselves.
      this.capacity.setFull(undefined);
      this.metrics.storeFull.set(0);
      this.hold.holdForStore(false);
      this.logger.log(`room in the local store again (${this.capacity.lastHeld} documents held): writing resumes`);
    }
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
        'at the limit the worker stops writing. Set MONGODB_URI to a real MongoDB.',
    );
  }
}
