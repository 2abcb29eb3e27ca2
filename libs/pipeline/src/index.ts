export { ConsumerLagMonitor, type ConsumerProgress } from './consumer-lag.monitor.js';
export { isStalled } from './consumer-stall.js';
export { FlushScheduler, type FlushStats } from './flush.scheduler.js';
export { KafkaConsumerHost, POINTS_PATTERN } from './kafka-consumer.host.js';
export { PointsBuffer, type Batch, type BufferedRecord } from './points-buffer.js';
export { PartitionFence } from './partition-fence.js';
export { PointsConsumer } from './points.consumer.js';
export { PipelineMetrics, type PartitionLag } from './pipeline.metrics.js';
export { PipelineModule } from './pipeline.module.js';
