// The Kafka lib's public surface: client settings, the worker's transport and its control, topics.
export {
  ConsumerControl,
  nextOffsets,
  type ConsumptionSwitch,
  type GroupMembership,
  type NextOffset,
  type OffsetCommitter,
  type RecordPosition,
} from './consumer-control.js';
export { workerTransportOptions } from './consumer-options.js';
export { deadLetterTopic, sendToDeadLetterTopic, type DeadLetterSource } from './dead-letter-topic.js';
export { FunnelKafkaServer, type ConsumerState } from './funnel-kafka.server.js';
export { groupLag, type GroupPartitionLag } from './group-lag.js';
export { LazyAdmin } from './lazy-admin.js';
export { KAFKA_RETRY, kafkaClientConfig } from './kafka-options.js';
export { RetryStablePartitioner } from './stable-partitioner.js';
export { ensureTopic, TOPIC_RESOURCE, topicReplication, topicShortfalls, TopicSettingsError } from './topic.js';
