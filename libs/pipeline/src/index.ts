// The pipeline lib's public surface: its module and the parts readiness and the app reach.
export { ConsumerLagMonitor, type ConsumerProgress } from './consumer-lag.monitor.js';
export { KafkaConsumerHost } from './kafka-consumer.host.js';
export { PipelineModule } from './pipeline.module.js';
