/** Checks a Kafka record value against the PointsRecord contract before the worker uses it. */
import { NO_NUMBER, NO_TAGS, compactParts, isCompactRecord } from './points-record.compact.js';
import type { PointsRecord, WirePoint } from './points-record.js';
import {
  ID_PATTERN,
  MAX_ID_LENGTH,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  NAME_CHARACTERS,
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
  if (isCompactRecord(value)) {
    return decodeCompact(value);
  }
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

/** An id prefix whose every character is of the name set (the number after it is digits). */
const ID_PREFIX_PATTERN = new RegExp(`^${NAME_CHARACTERS}*$`);

/**
 * A compact record (points-record.compact.ts) checked by the same rules as a JSON one, each distinct string
 * once: the readings share the record's strings.
 */
function decodeCompact(value: Buffer): PointsRecord {
  const parts = compactParts(value);
  if (typeof parts === 'string') {
    throw new RecordRejected(parts);
  }
  const { n, values, times, refs, strings } = parts;
  if (!Number.isFinite(parts.receivedAt)) {
    throw new RecordRejected('receivedAt is not a number');
  }
  if (n === 0) {
    throw new RecordRejected('points is not a non-empty array');
  }
  const count = strings.length;
  // Per string: 0 not checked yet, 1 valid, -1 invalid; one array per role (the rules differ).
  const sensorOk = new Int8Array(count);
  const metricOk = new Int8Array(count);
  const idOk = new Int8Array(count);
  const prefixOk = new Int8Array(count);
  const tagsOf = new Map<number, Record<string, string> | string>();
  const check = (cache: Int8Array, i: number, valid: (s: string) => boolean): boolean => {
    if (cache[i] === 0) cache[i] = valid(strings[i]!) ? 1 : -1;
    return cache[i] === 1;
  };
  const points: WirePoint[] = new Array<WirePoint>(n);
  for (let i = 0; i < n; i++) {
    const s = refs[i]!;
    const m = refs[n + i]!;
    const idRef = refs[2 * n + i]!;
    const number = refs[3 * n + i]!;
    const t = refs[4 * n + i]!;
    if (s >= count || m >= count || idRef >= count || (t !== NO_TAGS && t >= count)) {
      throw new RecordRejected(`points[${i}] refers to a string the record does not have`, i);
    }
    let id: string;
    if (number === NO_NUMBER) {
      id = strings[idRef]!;
      if (!check(idOk, idRef, (x) => ID_PATTERN.test(x))) throw new RecordRejected(`points[${i}] has an invalid id`, i);
    } else {
      id = `${strings[idRef]!}${number}`;
      if (!check(prefixOk, idRef, (x) => ID_PREFIX_PATTERN.test(x)) || id.length > MAX_ID_LENGTH) {
        throw new RecordRejected(`points[${i}] has an invalid id`, i);
      }
    }
    if (!check(sensorOk, s, (x) => isName(x, MAX_SENSOR_ID_LENGTH))) {
      throw new RecordRejected(`points[${i}] has an invalid sensorId`, i);
    }
    if (!check(metricOk, m, (x) => isName(x, MAX_METRIC_LENGTH))) {
      throw new RecordRejected(`points[${i}] has an invalid metric`, i);
    }
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      throw new RecordRejected(`points[${i}] has a value that is not a finite number`, i);
    }
    // + 0: -0 as JSON would carry it (0).
    const ts = times[i]! + 0;
    if (!isInstantMs(ts) || ts < 0) {
      throw new RecordRejected(`points[${i}] has a ts that is not non-negative epoch milliseconds a Date can hold`, i);
    }
    if (t === NO_TAGS) {
      points[i] = { id, sensorId: strings[s]!, metric: strings[m]!, value: v, ts };
      continue;
    }
    let tags = tagsOf.get(t);
    if (tags === undefined) {
      tags = tagsOfJson(strings[t]!);
      tagsOf.set(t, tags);
    }
    if (typeof tags === 'string') {
      throw new RecordRejected(`points[${i}] has invalid tags: ${tags}`, i);
    }
    points[i] = { id, sensorId: strings[s]!, metric: strings[m]!, value: v, ts, tags };
  }
  return {
    v: 1,
    receivedAt: parts.receivedAt,
    idem: parts.idem,
    ...(parts.exactTs ? { exactTs: true } : {}),
    points,
  };
}

/** The tags a compact record holds as JSON, or why they are unacceptable. */
function tagsOfJson(json: string): Record<string, string> | string {
  let tags: unknown;
  try {
    tags = JSON.parse(json);
  } catch {
    return 'are not JSON';
  }
  return tagsProblem(tags) ?? (tags as Record<string, string>);
}
