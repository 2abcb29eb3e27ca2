export { bucketsPipeline, rollupBucketsPipeline, type BucketQuery } from './aggregation-pipeline.js';
export { evenChunks, MIN_WRITE_CHUNK } from './chunks.js';
export { DeadLettersRepository, type DeadLetter } from './dead-letters.repository.js';
export { PartitionProgressRepository, type PartitionClaim } from './partition-progress.repository.js';
export { StoredPoint } from './point.schema.js';
export {
  PointsRepository,
  StorageUnavailable,
  isConnectionError,
  type RawBucket,
  type StorageCapabilities,
} from './points.repository.js';
export {
  MINUTE_MS,
  planWrite,
  pointsToCheck,
  sourceOf,
  type PlannedRecord,
  type RollupDoc,
  type SourcedPoint,
  type StoredCopy,
  type WritePlan,
} from './rollups.js';
export { RollupsRepository, type RollupBucket } from './rollups.repository.js';
export { StorageLifecycle } from './storage.lifecycle.js';
export { StorageModule } from './storage.module.js';
