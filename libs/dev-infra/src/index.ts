// Public API of @funnel/dev-infra: local Kafka/MongoDB for machines without Docker, and the test tooling helpers.
export * from './poll.js';
export * from './process-runner.js';
export * from './prometheus.js';
export * from './sleep.js';
