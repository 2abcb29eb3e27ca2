export { DependencyUnavailable } from './errors.js';
export {
  ID_PATTERN,
  MAX_TAGS,
  NAME_PATTERN,
  POINT_FIELDS,
  PointDto,
  parseTimestamp,
  tagsProblem,
} from './point.dto.js';
export type { PointsRecord, WirePoint } from './points-record.js';
export { RecordRejected, decodePointsRecord } from './points-record.decoder.js';
export {
  validatePoints,
  type IdSource,
  type PointRejection,
  type PointRules,
  type PointsValidation,
} from './points.validator.js';
export { KnownQueryKeys, unknownQueryKeys } from './query-keys.js';
