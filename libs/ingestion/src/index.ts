export { IngestionMetrics } from './ingestion.metrics.js';
export { IngestionModule } from './ingestion.module.js';
export { BrokerUnavailable, PointsPublisher } from './points.publisher.js';
