// Connects to MongoDB in the background and prepares the collections once it answers.
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { PointsRepository, type StorageCapabilities } from './readings/points.repository.js';
import { RetentionKeeper } from './tiers/retention.js';
import { SeriesCatalogRepository } from './tiers/series-catalog.repository.js';
import { TierStore } from './tiers/tier.store.js';

const RETRY_MS = 2000;

/**
 * Brings the MongoDB side up without blocking startup: the process starts (and reports not ready) while
 * the server is unreachable, keeps retrying, and prepares the collection once it answers.
 */
@Injectable()
export class StorageLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Storage');
  private capabilities?: StorageCapabilities;
  private isReplicaSet = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly repository: PointsRepository,
    private readonly tiers: TierStore,
    private readonly catalog: SeriesCatalogRepository,
    private readonly retention: RetentionKeeper,
    private readonly config: FunnelConfig,
  ) {}

  onApplicationBootstrap(): void {
    void this.prepare();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** What the server supports, once the collection is prepared; undefined before. */
  get ready(): StorageCapabilities | undefined {
    return this.capabilities;
  }

  /** Whether the server is a member of a replica set (its isMaster answer names a set); false before. */
  get replicaSet(): boolean {
    return this.isReplicaSet;
  }

  private async prepare(): Promise<void> {
    if (this.stopped) {
      return;
    }
    try {
      if (this.connection.readyState === 0) {
        await this.connection.openUri(this.config.MONGODB_URI);
      } else {
        await this.connection.asPromise();
      }
      // isMaster, not hello: the mongo-java-server stand-in answers only the former, and real MongoDB both.
      const hello = await this.connection.db!.admin().command({ isMaster: 1 });
      this.isReplicaSet = typeof hello.setName === 'string';
      const caps = await this.repository.ensureCollection();
      await this.tiers.ensureIndexes(caps.timeSeries);
      await this.catalog.ensureIndexes();
      await this.retention.applyTtl(caps.timeSeries);
      this.repository.logCapabilities(caps);
      this.capabilities = caps;
    } catch (error) {
      this.logger.warn(`MongoDB not ready (${(error as Error).message}); retrying in ${RETRY_MS} ms`);
      this.timer = setTimeout(() => void this.prepare(), RETRY_MS);
    }
  }
}
