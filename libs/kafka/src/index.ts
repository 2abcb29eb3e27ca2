export { FunnelKafkaServer, type ConsumerState } from './funnel-kafka.server.js';
export { kafkaClientConfig } from './kafka-options.js';
export { ensureTopic } from './topic.js';
