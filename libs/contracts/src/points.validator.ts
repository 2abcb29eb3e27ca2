import { validateSync } from 'class-validator';

import { POINT_FIELDS, PointDto, parseTimestamp } from './point.dto.js';
import type { WirePoint } from './points-record.js';

/** One problem with one reading of a request: which reading, which field, and why. */
export interface PointRejection {
  index: number;
  field: string;
  reason: string;
}

export interface PointRules {
  maxPoints: number;
  maxFutureSkewMs: number;
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
  for (let index = 0; index < items.length; index++) {
    const before = errors.length;
    const point = validatePoint(items[index], index, rules, now, errors, ids);
    if (point && errors.length === before) {
      points.push(point);
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, points };
}

function validatePoint(
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
