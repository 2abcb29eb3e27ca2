// Public API of @funnel/dev-infra: local Kafka/MongoDB for machines without Docker, and the test tooling helpers.
export { ensureInfra, type Infra } from './ensure-infra.js';
export { componentVersion, fetchAll, resolveClasspath, resolveJava, runKafkaTool, type JavaTools } from './java.js';
export { probeKafka, startKafka, type ExternalKafka, type KafkaHandle, type KafkaOptions } from './kafka.js';
export {
  startKafkaCluster,
  type KafkaClusterHandle,
  type KafkaClusterOptions,
  type KafkaNodePorts,
} from './kafka-cluster.js';
export { probeMongo, startMongo, type MongoHandle, type MongoOptions } from './mongo.js';
export { standInSizing, type StandInSizing } from './stand-in-sizing.js';
export { defaultLog, FUNNEL_DIR, LOG_DIR, redact, rel, REPO_ROOT, secs, STATE_FILE, type Log } from './paths.js';
export {
  freePort,
  isAlive,
  logTail,
  portAnswers,
  stopStarted,
  type ServerControl,
  type UnexpectedExit,
} from './processes.js';
export * from './poll.js';
export * from './process-runner.js';
export * from './prometheus.js';
export * from './sleep.js';
