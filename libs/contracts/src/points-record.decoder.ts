/** Checks a Kafka record value against the PointsRecord contract before the worker uses it. */
import type { PointsRecord, WirePoint } from './points-record.js';
import {
  ID_PATTERN,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  isInstantMs,
  isName,
  tagsProblem,
} from './reading-rules.js';

/** A Kafka record that is not a valid PointsRecord: why, and which reading of it when one is at fault. */
export class RecordRejected extends Error {
  constructor(
    readonly reason: string,
    readonly pointIndex?: number,
  ) {
    super(reason);
    this.name = 'RecordRejected';
  }
}

function pointProblem(p: unknown): string | undefined {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) {
    return 'is not an object';
  }
  const { id, sensorId, metric, value, ts, tags } = p as Record<string, unknown>;
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    return 'has an invalid id';
  }
  if (!isName(sensorId, MAX_SENSOR_ID_LENGTH)) {
    return 'has an invalid sensorId';
  }
  if (!isName(metric, MAX_METRIC_LENGTH)) {
    return 'has an invalid metric';
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return 'has a value that is not a finite number';
  }
  // Beyond a Date's range the store would turn ts into an invalid date.
  if (typeof ts !== 'number' || !isInstantMs(ts) || ts < 0) {
    return 'has a ts that is not non-negative epoch milliseconds a Date can hold';
  }
  const tagsInvalid = tags === undefined ? undefined : tagsProblem(tags);
  return tagsInvalid === undefined ? undefined : `has invalid tags: ${tagsInvalid}`;
}

/**
 * Checks a deserialised record value against the PointsRecord contract. The api only publishes valid
 * records, so a failure here means a foreign or corrupted producer: throws RecordRejected naming why.
 */
export function decodePointsRecord(value: unknown): PointsRecord {
  if (typeof value === 'string') {
    throw new RecordRejected('value is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new RecordRejected('value is not a JSON object');
  }
  const record = value as Partial<PointsRecord>;
  if (record.v !== 1) {
    throw new RecordRejected(`unsupported contract version ${JSON.stringify(record.v)}`);
  }
  if (typeof record.receivedAt !== 'number' || !Number.isFinite(record.receivedAt)) {
    throw new RecordRejected('receivedAt is not a number');
  }
  if (!Array.isArray(record.points) || record.points.length === 0) {
    throw new RecordRejected('points is not a non-empty array');
  }
  for (let i = 0; i < record.points.length; i++) {
    const problem = pointProblem(record.points[i]);
    if (problem) {
      throw new RecordRejected(`points[${i}] ${problem}`, i);
    }
  }
  return {
    v: 1,
    receivedAt: record.receivedAt,
    idem: record.idem === true,
    ...(record.idem === true && record.exactTs === true ? { exactTs: true } : {}),
    points: record.points as WirePoint[],
  };
}
