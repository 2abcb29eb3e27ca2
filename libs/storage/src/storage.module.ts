import { Logger, Module } from '@nestjs/common';
import { MongooseModule, SchemaFactory } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { DeadLettersRepository } from './dead-letters.repository.js';
import { PartitionProgressRepository } from './partition-progress.repository.js';
import { StoredPoint } from './point.schema.js';
import { PointsRepository } from './points.repository.js';
import { RollupsRepository } from './rollups.repository.js';
import { MongoCheck } from './storage.health.js';
import { StorageLifecycle } from './storage.lifecycle.js';

const logger = new Logger('MongoDB');

/** Mongoose connection, the readings collection and its repository. */
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
        useFactory: (config: FunnelConfig) => {
          const schema = SchemaFactory.createForClass(StoredPoint);
          schema.set('collection', config.MONGODB_COLLECTION);
          schema.set('timeseries', { timeField: 'ts', metaField: 'meta', granularity: config.TS_GRANULARITY });
          return schema;
        },
      },
    ]),
  ],
  providers: [
    PointsRepository,
    RollupsRepository,
    StorageLifecycle,
    PartitionProgressRepository,
    DeadLettersRepository,
    MongoCheck,
  ],
  exports: [PointsRepository, RollupsRepository, StorageLifecycle, PartitionProgressRepository, DeadLettersRepository],
})
export class StorageModule {}
