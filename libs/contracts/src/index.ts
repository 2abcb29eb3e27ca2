/** Public API of the contracts lib: the reading rules, the HTTP and Kafka shapes of a reading, and their checks. */
export { DependencyUnavailable } from './errors.js';
export { PointDto } from './point.dto.js';
export type { PointsRecord, WirePoint } from './points-record.js';
export { RecordRejected, decodePointsRecord } from './points-record.decoder.js';
export { encodePointsRecord, isCompactRecord } from './points-record.compact.js';
export {
  validatePoints,
  type IdSource,
  type PointRejection,
  type PointRules,
  type PointsValidation,
} from './points.validator.js';
export { KnownQueryKeys } from './query-keys.js';
export {
  HEADER_ID_PATTERN,
  ID_PATTERN,
  MAX_HEADER_ID_LENGTH,
  MAX_ID_LENGTH,
  MAX_INSTANT_MS,
  MAX_LISTED_ERRORS,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  MAX_TAGS,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  NAME_CHARACTERS,
  NAME_PATTERN,
  POINT_FIELDS,
  isInstantMs,
  isName,
  listedErrors,
  parseTimestamp,
  readingKey,
  tagsProblem,
} from './reading-rules.js';
