// The storage lib's public surface: its module, repositories, stored shapes and query pipelines.
export { bucketsPipeline, type BucketQuery } from './aggregation-pipeline.js';
export {
  DEAD_LETTER_BASE64,
  deadLetterBytes,
  deadLetterValue,
  type DeadLetter,
} from './dead-letters/dead-letter.schema.js';
export { DeadLettersRepository } from './dead-letters/dead-letters.repository.js';
export { type PartitionClaim } from './partition-progress/partition-progress.schema.js';
export { PartitionProgressRepository } from './partition-progress/partition-progress.repository.js';
export { evenChunks, MIN_WRITE_CHUNK } from './readings/chunks.js';
export {
  PointsRepository,
  ReadingsStoredMeanwhile,
  type RawBucket,
  type StorageCapabilities,
} from './readings/points.repository.js';
export { readingDocId, readingsTimeSeries, type SourcedPoint, type StoredCopy } from './readings/reading.schema.js';
export {
  capacityLevel,
  roomLeft,
  storeFullReason,
  WARN_FRACTION,
  type CapacityLevel,
} from './store-capacity/capacity-level.js';
export { StoreCapacity } from './store-capacity/store-capacity.js';
export { StorageUnavailable } from './storage-errors.js';
export { StorageLifecycle } from './storage.lifecycle.js';
export { StorageModule } from './storage.module.js';
export { QuantileSketch, SKETCH_RELATIVE_ACCURACY } from './tiers/sketch.js';
export {
  addReading,
  emptyStats,
  fromStored,
  mergeInto,
  sampleVariance,
  statsOf,
  toStored,
  type Stats,
  type StoredStats,
} from './tiers/stats.js';
export {
  RawScanTooLarge,
  type BucketReadLimits,
  type BucketStatsSource,
  type SeriesBuckets,
  type SeriesId,
  type SeriesSelector,
  type StatGroup,
} from './tiers/bucket-stats.js';
export { SeriesCatalogRepository, type CatalogSelector } from './tiers/series-catalog.repository.js';
export { type SeriesEntry } from './tiers/series-catalog.schema.js';
export { seriesFields, seriesIdentity, type SeriesFields } from './tiers/series-key.js';
export {
  retentionMs,
  TierCompactor,
  type CommittedPartition,
  type HaltHook,
  type HaltPoint,
  type RoundResult,
} from './tiers/tier.compactor.js';
export { RAW_BUCKET_STATS, TierExpired, TierReader } from './tiers/tier.reader.js';
export {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  sliceMinuteStats,
  sliceMinutes,
  storedCount,
  storedSliceMinute,
  storedTierStats,
  TIER_MS,
  tierStats,
  tierCollections,
  TIERS,
  type SliceDoc,
  type SliceMinute,
  type StoredSliceMinute,
  type StoredTierStats,
  type Tier,
  type TierDoc,
} from './tiers/tier.schema.js';
export { TierStore } from './tiers/tier.store.js';
export { oldestAcceptedTs, RetentionKeeper, retentionPlan, TTL_INDEX } from './tiers/retention.js';
export { TierRebuild, type CommittedOffsets, type RebuildRequest, type RebuildResult } from './tiers/tier.rebuild.js';
export {
  RawReadingsExport,
  RawStatsReader,
  ReadTimedOut,
  seriesKeyOf,
  type ExportedReading,
  type ExportPosition,
} from './tiers/raw-stats.reader.js';
