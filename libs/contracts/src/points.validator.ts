/** Validates a POST body of readings: a fast path for valid readings, class-validator to word every problem. */
import { validateSync } from 'class-validator';

import { PointDto } from './point.dto.js';
import type { WirePoint } from './points-record.js';
import {
  ID_PATTERN,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  POINT_FIELDS,
  isName,
  parseTimestamp,
  readingKey,
  tagsProblem,
} from './reading-rules.js';

/** One problem with one reading of a request: which reading, which field, and why. */
export interface PointRejection {
  index: number;
  field: string;
  reason: string;
}

export interface PointRules {
  maxPoints: number;
  maxFutureSkewMs: number;
  /** Readings before this instant (epoch ms) are refused: past the rollups' retention. None when unset. */
  oldestTs?: number;
}

/** Where ids come from for readings without one: `${idPrefix}${index}`. */
export interface IdSource {
  idPrefix: string;
}

export type PointsValidation =
  | { ok: true; points: WirePoint[] }
  | { ok: false; tooMany?: false; errors: PointRejection[] }
  | { ok: false; tooMany: true; count: number };

/**
 * Validates a parsed POST body (one reading or an array of them) against every reading rule and
 * returns either all readings normalised (ts in epoch ms, defaulted to `now`) or every problem found.
 */
export function validatePoints(body: unknown, rules: PointRules, now: number, ids: IdSource): PointsValidation {
  const items = Array.isArray(body) ? body : [body];
  if (Array.isArray(body) && body.length === 0) {
    return { ok: false, errors: [{ index: -1, field: '', reason: 'body must contain at least one reading' }] };
  }
  if (items.length > rules.maxPoints) {
    return { ok: false, tooMany: true, count: items.length };
  }
  const errors: PointRejection[] = [];
  const points: WirePoint[] = [];
  // Api-made ids (`${idPrefix}${index}`) all differ: only a reading that carries its own id can repeat a key, so
  // keys are kept from the first such reading on (with those of the readings before it), not for every reading.
  let firstIndexOf: Map<string, number> | undefined;
  for (let index = 0; index < items.length; index++) {
    const before = errors.length;
    const point =
      acceptValid(items[index], index, rules, now, ids) ?? validatePoint(items[index], index, rules, now, errors, ids);
    if (point && errors.length === before) {
      if (firstIndexOf === undefined && (items[index] as Record<string, unknown>).id !== undefined) {
        firstIndexOf = new Map(points.map((p) => [readingKey(p), Number(p.id.slice(ids.idPrefix.length))]));
      }
      if (firstIndexOf === undefined || !repeatsAnId(point, index, firstIndexOf, errors)) points.push(point);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, points };
}

/**
 * Ids are unique per (sensorId, metric): a second reading of the same key in one request would be taken
 * for a retry and dropped by the store while the answer counted it, so it is refused, naming both indexes.
 * Records `point`'s key when it is the first; true (with the problem pushed) when it repeats one.
 */
function repeatsAnId(
  point: WirePoint,
  index: number,
  firstIndexOf: Map<string, number>,
  errors: PointRejection[],
): boolean {
  const key = readingKey(point);
  const first = firstIndexOf.get(key);
  if (first === undefined) {
    firstIndexOf.set(key, index);
    return false;
  }
  errors.push({ index, field: 'id', reason: `repeats the id, sensorId and metric of reading ${first}` });
  return true;
}

/**
 * The fast path: the normalised reading when it passes every rule, else undefined, in which case the
 * class-validator path (`validatePoint`) finds and words every problem. class-validator's metadata
 * lookups and a DTO per reading make it most of the api's work on large requests; valid readings, the
 * common case, skip it. It must never accept what `validatePoint`
 * rejects: points.validator.spec.ts checks both paths agree on every case of its corpus.
 */
export function acceptValid(
  item: unknown,
  index: number,
  rules: PointRules,
  now: number,
  ids: IdSource,
): WirePoint | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return undefined;
  }
  const source = item as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!POINT_FIELDS.has(key)) {
      return undefined;
    }
  }
  const { id, sensorId, metric, value, ts, tags } = source;
  if (id !== undefined && (typeof id !== 'string' || !ID_PATTERN.test(id))) {
    return undefined;
  }
  if (!isName(sensorId, MAX_SENSOR_ID_LENGTH) || !isName(metric, MAX_METRIC_LENGTH)) {
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return undefined;
  }
  let at = now;
  if (ts !== undefined) {
    const parsed = parseTimestamp(ts);
    if (parsed === undefined || parsed < 0 || parsed > now + rules.maxFutureSkewMs) {
      return undefined;
    }
    if (rules.oldestTs !== undefined && parsed < rules.oldestTs) {
      return undefined;
    }
    at = parsed;
  }
  if (tags !== undefined && tagsProblem(tags) !== undefined) {
    return undefined;
  }
  const wire: WirePoint = { id: id ?? `${ids.idPrefix}${index}`, sensorId, metric, value, ts: at };
  if (tags !== undefined && Object.keys(tags as object).length > 0) {
    wire.tags = tags as Record<string, string>;
  }
  return wire;
}

/**
 * The class-validator path: the normalised reading, or undefined with every problem of it pushed onto
 * `errors`. (Exported, like `acceptValid`, so the spec can hold the two paths against each other.)
 */
export function validatePoint(
  item: unknown,
  index: number,
  rules: PointRules,
  now: number,
  errors: PointRejection[],
  ids: IdSource,
): WirePoint | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    errors.push({ index, field: '', reason: 'must be a JSON object' });
    return undefined;
  }
  const before = errors.length;
  const source = item as Record<string, unknown>;
  // Copy only known fields onto a fresh DTO: unknown keys are reported, never assigned.
  const dto = new PointDto() as unknown as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (POINT_FIELDS.has(key)) {
      dto[key] = source[key];
    } else {
      errors.push({ index, field: key.slice(0, 80), reason: 'is not a known field' });
    }
  }
  for (const error of validateSync(dto)) {
    const reason =
      dto[error.property] === undefined ? 'is required' : (Object.values(error.constraints ?? {})[0] ?? 'is invalid');
    errors.push({ index, field: error.property, reason });
  }
  const point = dto as unknown as PointDto;
  let ts = now;
  if (point.ts !== undefined) {
    const parsed = parseTimestamp(point.ts);
    if (parsed === undefined) {
      return undefined; // already reported by the DTO's rule
    }
    if (parsed < 0) {
      errors.push({ index, field: 'ts', reason: 'must not be before 1970-01-01T00:00:00Z' });
    } else if (parsed > now + rules.maxFutureSkewMs) {
      errors.push({ index, field: 'ts', reason: `must not be more than ${rules.maxFutureSkewMs} ms in the future` });
    } else if (rules.oldestTs !== undefined && parsed < rules.oldestTs) {
      errors.push({
        index,
        field: 'ts',
        reason: `must not be before ${new Date(rules.oldestTs).toISOString()}: older readings are past the retention of the rollups (RETENTION_MINUTE, RETENTION_HOUR)`,
      });
    }
    ts = parsed;
  }
  if (errors.length > before) {
    return undefined;
  }
  const wire: WirePoint = {
    id: point.id ?? `${ids.idPrefix}${index}`,
    sensorId: point.sensorId,
    metric: point.metric,
    value: point.value,
    ts,
  };
  if (point.tags !== undefined && Object.keys(point.tags).length > 0) {
    wire.tags = point.tags;
  }
  return wire;
}
