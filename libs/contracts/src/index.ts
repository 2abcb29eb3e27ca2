export { MAX_TAGS, NAME_PATTERN, POINT_FIELDS, PointDto, parseTimestamp, tagsProblem } from './point.dto.js';
export type { PointsRecord, WirePoint } from './points-record.js';
export { validatePoints, type PointRejection, type PointRules, type PointsValidation } from './points.validator.js';
export { RecordRejected, decodePointsRecord } from './points-record.decoder.js';
export { DependencyUnavailable } from './errors.js';
