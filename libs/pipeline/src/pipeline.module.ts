// Wires the worker's write path: consume, buffer, schedule, flush, write, commit.
import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';

import { ConsumerControl } from '@funnel/kafka';
import { StorageModule } from '@funnel/storage';

import { AssignmentTracker } from './assignment.tracker.js';
import { Backpressure } from './backpressure.js';
import { BatchFlusher } from './batch.flusher.js';
import { BatchWriter } from './batch.writer.js';
import { BufferIntake } from './buffer.intake.js';
import { ConsumerLagMonitor } from './consumer-lag.monitor.js';
import { FlushScheduler } from './flush.scheduler.js';
import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PartitionFence } from './partition-fence.js';
import { KafkaConsumerCheck } from './pipeline.health.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer } from './points-buffer.js';
import { PointsConsumer } from './points.consumer.js';
import { ProgressClock } from './progress.clock.js';
import { StoreGate } from './store.gate.js';
import { TierMaintenance } from './tier.maintenance.js';

/** The worker's side of the pipeline: consume, buffer, flush, commit. Only the worker role imports it. */
@Module({
  imports: [ScheduleModule.forRoot(), StorageModule],
  controllers: [PointsConsumer],
  providers: [
    { provide: PointsBuffer, useFactory: () => new PointsBuffer() },
    KafkaConsumerHost,
    { provide: ConsumerControl, inject: [KafkaConsumerHost], useFactory: (host: KafkaConsumerHost) => host.control },
    PartitionFence,
    AssignmentTracker,
    ProgressClock,
    BufferIntake,
    Backpressure,
    BatchWriter,
    StoreGate,
    BatchFlusher,
    FlushScheduler,
    ConsumerLagMonitor,
    PipelineMetrics,
    KafkaConsumerCheck,
    TierMaintenance,
  ],
  exports: [KafkaConsumerHost, ConsumerLagMonitor],
})
export class PipelineModule {}
