// Decides whether the api still takes readings: not once the store is full and the unstored backlog passed its bound.
import { Injectable, OnApplicationShutdown } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { groupLag, kafkaClientConfig, LazyAdmin } from '@funnel/kafka';
import { capacityLevel, StoreCapacity, storeFullReason } from '@funnel/storage';

/** A request and the next close behind it share one lag sample. */
const LAG_TTL_MS = 1000;
const ADMIN_TIMEOUT_MS = 2000;

/** Ingest refused: the store is full and the readings acknowledged but not stored passed STORE_FULL_BACKLOG_RECORDS. */
export class StoreFull extends Error {
  override readonly name = 'StoreFull';

  constructor(
    readonly reason: string,
    readonly backlogRecords: number,
  ) {
    super(reason);
  }
}

/**
 * With MONGODB_CAPACITY_DOCS set, the api counts the store as full once another record of
 * KAFKA_POINTS_PER_RECORD readings would not fit (the worker then cannot store it either), and refuses
 * ingest while the worker group's lag (acknowledged, not stored) is over STORE_FULL_BACKLOG_RECORDS.
 * Below that bound it keeps accepting: Kafka holds the backlog safely, and the worker resumes by itself.
 */
@Injectable()
export class StoreAdmission implements OnApplicationShutdown {
  private readonly admin: LazyAdmin;
  private lag?: { at: number; records: Promise<number | undefined> };

  constructor(
    private readonly capacity: StoreCapacity,
    private readonly config: FunnelConfig,
  ) {
    this.admin = new LazyAdmin(kafkaClientConfig(config, 'api-backlog'), ADMIN_TIMEOUT_MS);
  }

  /** Throws StoreFull when ingest must be refused; resolves at once when the store has no capacity set. */
  async admit(): Promise<void> {
    if (this.capacity.capacity <= 0) {
      return;
    }
    const held = await this.capacity.held();
    if (
      held === undefined ||
      capacityLevel(held, this.capacity.capacity, this.config.KAFKA_POINTS_PER_RECORD) !== 'full'
    ) {
      return;
    }
    const backlog = await this.backlog();
    if (backlog !== undefined && backlog > this.config.STORE_FULL_BACKLOG_RECORDS) {
      throw new StoreFull(storeFullReason(held), backlog);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect();
  }

  /** Records of the topic the worker group has not committed; undefined when Kafka could not be asked. */
  private backlog(): Promise<number | undefined> {
    const now = Date.now();
    if (!this.lag || now - this.lag.at >= LAG_TTL_MS) {
      const records = this.admin
        .run((admin) => groupLag(admin, this.config.KAFKA_TOPIC, this.config.KAFKA_GROUP_ID))
        .then(
          (lags) => lags.reduce((sum, p) => sum + p.lag, 0),
          () => undefined,
        );
      this.lag = { at: now, records };
    }
    return this.lag.records;
  }
}
