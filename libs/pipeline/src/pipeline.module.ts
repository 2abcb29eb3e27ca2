import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';

import { StorageModule } from '@funnel/storage';

import { AssignmentTracker } from './assignment.tracker.js';
import { ConsumerLagMonitor } from './consumer-lag.monitor.js';
import { FlushScheduler } from './flush.scheduler.js';
import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PartitionFence } from './partition-fence.js';
import { KafkaConsumerCheck } from './pipeline.health.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer } from './points-buffer.js';
import { PointsConsumer } from './points.consumer.js';

/** The worker's side of the pipeline: consume, buffer, flush, commit. Only the worker role imports it. */
@Module({
  imports: [ScheduleModule.forRoot(), StorageModule],
  controllers: [PointsConsumer],
  providers: [
    { provide: PointsBuffer, useFactory: () => new PointsBuffer() },
    FlushScheduler,
    KafkaConsumerHost,
    PartitionFence,
    AssignmentTracker,
    ConsumerLagMonitor,
    PipelineMetrics,
    KafkaConsumerCheck,
  ],
  exports: [KafkaConsumerHost, FlushScheduler, PointsBuffer, ConsumerLagMonitor],
})
export class PipelineModule {}
