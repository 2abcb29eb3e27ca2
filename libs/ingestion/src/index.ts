// The ingestion lib's public surface: its module and what the app wires from it.
export { IngestionMetrics } from './ingestion.metrics.js';
export { IngestionModule } from './ingestion.module.js';
export { BrokerUnavailable, PointsPublisher } from './points.publisher.js';
export { registerIngestBodies } from './formats/request-body.js';
export { linesOf } from './formats/ndjson.js';
