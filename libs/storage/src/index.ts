export { bucketsPipeline, type BucketQuery } from './aggregation-pipeline.js';
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
export { StorageLifecycle } from './storage.lifecycle.js';
export { StorageModule } from './storage.module.js';
