import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNumber, IsString, Length, Matches, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

/** Characters allowed in sensor ids, metric names and tag keys. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]+$/;
export const MAX_TAGS = 16;
export const MAX_TAG_KEY_LENGTH = 64;
export const MAX_TAG_VALUE_LENGTH = 256;
/** Keys that would reach Object.prototype if a consumer ever merged tags into an object. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** ISO-8601 date-time with an explicit zone, e.g. 2026-11-28T04:00:00Z or 2026-11-28T05:00:00.123+01:00. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Epoch milliseconds of an ISO-8601 string or integer epoch-ms number, or undefined if it is neither. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? value : undefined;
  }
  if (typeof value === 'string' && ISO_DATE_TIME.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) || !isCalendarDateTime(value) ? undefined : ms;
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

/** Present, even if null: null is a value to validate (and reject), not a missing field. */
const IsPresent = (): PropertyDecorator => ValidateIf((_object: object, value: unknown) => value !== undefined);

function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value) => parseTimestamp(value) !== undefined,
        defaultMessage: () =>
          'must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T04:00:00Z) or integer epoch milliseconds',
      },
    },
    options,
  );
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
    if (key.length < 1 || key.length > MAX_TAG_KEY_LENGTH || !NAME_PATTERN.test(key)) {
      return `key ${JSON.stringify(key.slice(0, 80))} must be 1-${MAX_TAG_KEY_LENGTH} characters of [A-Za-z0-9._:-]`;
    }
    const tag = (value as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || tag.length > MAX_TAG_VALUE_LENGTH) {
      return `value of "${key}" must be a string of at most ${MAX_TAG_VALUE_LENGTH} characters`;
    }
  }
  return undefined;
}

function IsTags(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTags',
      validator: {
        validate: (value) => tagsProblem(value) === undefined,
        defaultMessage: (args) => tagsProblem(args?.value) ?? 'is invalid',
      },
    },
    options,
  );
}

/** Ids of readings and Idempotency-Key values: 1-128 characters of this set. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** One sensor reading as producers POST it. */
export class PointDto {
  @ApiPropertyOptional({
    example: 'boiler-7:2026-11-28T04:00:00Z',
    minLength: 1,
    maxLength: 128,
    pattern: ID_PATTERN.source,
    description:
      'Optional client id of the reading: a reading with an id already stored is not stored again. ' +
      'Without it, the api derives one from the Idempotency-Key header (or a per-request key) and the index.',
  })
  @IsPresent()
  @IsString({ message: 'must be a string' })
  @Matches(ID_PATTERN, { message: 'must be 1-128 characters of [A-Za-z0-9._:-]' })
  id?: string;

  @ApiProperty({ example: 'boiler-7', minLength: 1, maxLength: 128, pattern: NAME_PATTERN.source })
  @IsString({ message: 'must be a string' })
  @Length(1, 128, { message: 'must be 1-128 characters long' })
  @Matches(NAME_PATTERN, { message: 'must contain only [A-Za-z0-9._:-]' })
  sensorId!: string;

  @ApiProperty({ example: 'temperature', minLength: 1, maxLength: 64, pattern: NAME_PATTERN.source })
  @IsString({ message: 'must be a string' })
  @Length(1, 64, { message: 'must be 1-64 characters long' })
  @Matches(NAME_PATTERN, { message: 'must contain only [A-Za-z0-9._:-]' })
  metric!: string;

  @ApiProperty({ example: 21.5, description: 'A finite number' })
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a finite number' })
  value!: number;

  @ApiPropertyOptional({
    oneOf: [
      { type: 'string', format: 'date-time', example: '2026-11-28T04:00:00Z' },
      { type: 'integer', example: 1795838400000 },
    ],
    description:
      'ISO-8601 date-time with a zone, or epoch milliseconds; defaults to the time the API received it. ' +
      'Rejected before 1970-01-01 or more than MAX_FUTURE_SKEW_MS in the future.',
  })
  @IsPresent()
  @IsTimestamp()
  ts?: string | number;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { site: 'plant-a', floor: '2' },
    description: `At most ${MAX_TAGS} string-to-string pairs`,
  })
  @IsPresent()
  @IsTags()
  tags?: Record<string, string>;
}

/** Property names a reading may carry; anything else is rejected. */
export const POINT_FIELDS: ReadonlySet<string> = new Set(['id', 'sensorId', 'metric', 'value', 'ts', 'tags']);
