// Wires the MongoDB connection and the repositories of Funnel's four collections.
import { Logger, Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { DeadLettersRepository } from './dead-letters/dead-letters.repository.js';
import { PartitionProgressRepository } from './partition-progress/partition-progress.repository.js';
import { PointsRepository } from './readings/points.repository.js';
import { readingSchema, StoredPoint } from './readings/reading.schema.js';
import { MongoCheck } from './storage.health.js';
import { StorageLifecycle } from './storage.lifecycle.js';
import { StoreCapacity } from './store-capacity/store-capacity.js';
import { RawReadingsExport, RawStatsReader } from './tiers/raw-stats.reader.js';
import { RetentionKeeper } from './tiers/retention.js';
import { SeriesCatalogRepository } from './tiers/series-catalog.repository.js';
import { TierCompactor } from './tiers/tier.compactor.js';
import { RAW_BUCKET_STATS, TierReader } from './tiers/tier.reader.js';
import { TierRebuild } from './tiers/tier.rebuild.js';
import { TierStore } from './tiers/tier.store.js';

const logger = new Logger('MongoDB');

/** MONGODB_WRITE_CONCERN as the driver's `w`: 'majority' or a number of members. */
export function writeConcernOf(config: Pick<FunnelConfig, 'MONGODB_WRITE_CONCERN'>): 'majority' | number {
  return config.MONGODB_WRITE_CONCERN === 'majority' ? 'majority' : Number(config.MONGODB_WRITE_CONCERN);
}

/** What the storage lib provides to the other libs: one repository or service per collection or job. */
const REPOSITORIES = [
  PointsRepository,
  StorageLifecycle,
  PartitionProgressRepository,
  DeadLettersRepository,
  StoreCapacity,
  TierStore,
  TierCompactor,
  TierReader,
  SeriesCatalogRepository,
  RetentionKeeper,
  TierRebuild,
  RawStatsReader,
  RawReadingsExport,
];

/** The Mongoose connection and one repository per collection (readings, rollups, partition progress, dead letters). */
@Module({
  imports: [
    MongooseModule.forRootAsync({
      inject: [FunnelConfig],
      useFactory: (config: FunnelConfig) => ({
        uri: config.MONGODB_URI,
        // Connect in the background (StorageLifecycle retries): a process must start while MongoDB is down.
        lazyConnection: true,
        // Fail fast instead of queueing writes in memory while disconnected; the flush retries.
        bufferCommands: false,
        serverSelectionTimeoutMS: 5000,
        // Every write (readings, rollups, bookkeeping) inherits it from the client.
        writeConcern: { w: writeConcernOf(config) },
        appName: `funnel-${config.FUNNEL_ROLE}`,
        connectionFactory: (connection: Connection) => {
          connection.on('error', (error: Error) => logger.warn(`connection error: ${error.message}`));
          connection.on('disconnected', () => logger.warn('disconnected'));
          return connection;
        },
      }),
    }),
    MongooseModule.forFeatureAsync([
      {
        name: StoredPoint.name,
        inject: [FunnelConfig],
        useFactory: (config: FunnelConfig) => readingSchema(config),
      },
    ]),
  ],
  providers: [
    ...REPOSITORIES,
    MongoCheck,
    // The tiers ask the raw readings for the parts no tier holds whole.
    { provide: RAW_BUCKET_STATS, useExisting: RawStatsReader },
  ],
  exports: REPOSITORIES,
})
export class StorageModule {}
