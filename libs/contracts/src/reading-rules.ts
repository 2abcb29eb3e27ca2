/** The rules a reading and its query keys obey, defined once for the DTOs, the fast validator and the record decoder. */

/** Characters allowed in reading ids, sensor ids, metric names and tag keys: a regex class, named so in messages. */
export const NAME_CHARACTERS = '[A-Za-z0-9._:-]';
/** Characters allowed in sensor ids, metric names and tag keys (length checked apart). */
export const NAME_PATTERN = new RegExp(`^${NAME_CHARACTERS}+$`);

export const MAX_ID_LENGTH = 128;
export const MAX_SENSOR_ID_LENGTH = 128;
export const MAX_METRIC_LENGTH = 64;
export const MAX_TAGS = 16;
export const MAX_TAG_KEY_LENGTH = 64;
export const MAX_TAG_VALUE_LENGTH = 256;

/** Ids of readings: 1-MAX_ID_LENGTH characters of the name set. */
export const ID_PATTERN = new RegExp(`^${NAME_CHARACTERS}{1,${MAX_ID_LENGTH}}$`);

export const MAX_HEADER_ID_LENGTH = 128;
/** Idempotency-Key and x-request-id values: 1-MAX_HEADER_ID_LENGTH printable ASCII characters, no space. */
export const HEADER_ID_PATTERN = new RegExp(`^[\\x21-\\x7e]{1,${MAX_HEADER_ID_LENGTH}}$`);

/** At most this many problems are listed in a 400 answer; the rest are only counted (`moreErrors`). */
export const MAX_LISTED_ERRORS = 100;

/**
 * The first MAX_LISTED_ERRORS problems, plus how many were left off when there were more, so that a body
 * of thousands of bad readings or unknown keys cannot make an answer many times its own size.
 */
export function listedErrors<T>(errors: readonly T[]): { errors: T[]; moreErrors?: number } {
  if (errors.length <= MAX_LISTED_ERRORS) {
    return { errors: [...errors] };
  }
  return { errors: errors.slice(0, MAX_LISTED_ERRORS), moreErrors: errors.length - MAX_LISTED_ERRORS };
}

/** Property names a reading may carry; anything else is rejected. */
/**
 * A reading's identity: ids are unique per (sensorId, metric), so one id may name a reading of each metric.
 * Names never contain a space, so the joined key is unambiguous.
 */
export function readingKey(point: { id: string; sensorId: string; metric: string }): string {
  return `${point.id} ${point.sensorId} ${point.metric}`;
}

export const POINT_FIELDS: ReadonlySet<string> = new Set(['id', 'sensorId', 'metric', 'value', 'ts', 'tags']);

/** Keys that would reach Object.prototype if a consumer ever merged tags into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** True when `value` is a string of 1-`maxLength` characters of the name set. */
export function isName(value: unknown, maxLength: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= maxLength && NAME_PATTERN.test(value);
}

/** ISO-8601 date-time with an explicit zone, e.g. 2026-11-28T04:00:00Z or 2026-11-28T05:00:00.123+01:00. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The largest |epoch ms| a JavaScript Date (and so a BSON date made from one) can hold: 100,000,000 days. */
export const MAX_INSTANT_MS = 8.64e15;

/** True when `ms` is an integer instant a Date can represent; beyond it `new Date(ms).toISOString()` throws. */
export function isInstantMs(ms: number): boolean {
  return Number.isSafeInteger(ms) && Math.abs(ms) <= MAX_INSTANT_MS;
}

/**
 * Epoch milliseconds of an ISO-8601 string or integer epoch-ms number, or undefined if it is neither or
 * lies outside what a Date can represent.
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return isInstantMs(value) ? value : undefined;
  }
  if (typeof value === 'string' && ISO_DATE_TIME.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) || !isInstantMs(ms) || !isCalendarDateTime(value) ? undefined : ms;
  }
  return undefined;
}

/** Date.parse rolls 2026-02-30 over into March and takes hour 24; a reading's date must exist as written. */
function isCalendarDateTime(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const hour = Number(value.slice(11, 13));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour <= 23;
}

/** Why a tags value is unacceptable, or undefined when it is fine. */
export function tagsProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return 'must be an object of string keys to string values';
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_TAGS) {
    return `must have at most ${MAX_TAGS} entries (got ${keys.length})`;
  }
  for (const key of keys) {
    if (FORBIDDEN_KEYS.has(key)) {
      return `key "${key}" is not allowed`;
    }
    if (!isName(key, MAX_TAG_KEY_LENGTH)) {
      return `key ${JSON.stringify((key as string).slice(0, 80))} must be 1-${MAX_TAG_KEY_LENGTH} characters of ${NAME_CHARACTERS}`;
    }
    const tag = (value as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || tag.length > MAX_TAG_VALUE_LENGTH) {
      return `value of "${key}" must be a string of at most ${MAX_TAG_VALUE_LENGTH} characters`;
    }
  }
  return undefined;
}
