/** The query string of GET /v1/aggregates, validated with the same reading rules as ingest. */
import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, Length, Matches, ValidateBy } from 'class-validator';

import {
  MAX_INSTANT_MS,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  NAME_CHARACTERS,
  NAME_PATTERN,
  parseTimestamp,
} from '@funnel/contracts';

import { parseWindow } from './window.js';

/** Epoch ms of a `from`/`to` value (ISO-8601, or epoch ms as digits), or undefined if it is neither. */
export function parseInstant(value: unknown): number | undefined {
  if (typeof value !== 'string') {
    return undefined;
  }
  return parseTimestamp(/^-?\d+$/.test(value) ? Number(value) : value);
}

/**
 * The OpenAPI pattern of a `from`/`to` value: integer epoch ms, or the ISO-8601 date-times parseTimestamp takes
 * (a four-digit year, no sign, seconds and up to 9 fraction digits optional, a zone). What a pattern cannot say
 * (the range a Date holds, that the date exists) is the parameter's description.
 */
export const INSTANT_PATTERN =
  '^(-?[0-9]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))$';

/** The instants a JavaScript Date holds, as a refusal names them: ±MAX_INSTANT_MS epoch ms and the two ends in UTC. */
export const INSTANT_RANGE =
  `±${MAX_INSTANT_MS.toLocaleString('en-US')} epoch ms (what a JavaScript Date holds: ` +
  `${new Date(-MAX_INSTANT_MS).toISOString().replace('.000Z', 'Z')} to ${new Date(MAX_INSTANT_MS).toISOString().replace('.000Z', 'Z')})`;

/**
 * Why `param`'s value is not an instant, or undefined when it is one. Integer epoch ms past what a Date holds are
 * out of range, not malformed (every ISO-8601 string the format takes has a four-digit year, so lies inside).
 */
export function instantProblem(param: string, value: unknown): string | undefined {
  if (parseInstant(value) !== undefined) return undefined;
  if (typeof value === 'string' && /^-?\d+$/.test(value))
    return `${param} is out of range: an instant must lie within ${INSTANT_RANGE}`;
  return `${param} must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T00:00:00Z) or integer epoch milliseconds`;
}

const IsInstant = () =>
  ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value) => parseInstant(value) !== undefined,
      defaultMessage: (args) => instantProblem(String(args?.property), args?.value) ?? '',
    },
  });

const IsWindow = () =>
  ValidateBy({
    name: 'isWindow',
    validator: {
      validate: (value) => typeof value === 'string' && parseWindow(value) !== undefined,
      defaultMessage: () => 'window must be minute, hour, day, or a duration like 30s, 5m, 15m, 6h, 7d (at most 366d)',
    },
  });

/** Query string of GET /v1/aggregates. */
export class AggregatesQueryDto {
  @ApiProperty({ example: 'boiler-7' })
  @IsDefined({ message: 'sensorId is required' })
  @IsString()
  @Length(1, MAX_SENSOR_ID_LENGTH)
  @Matches(NAME_PATTERN, { message: `sensorId must contain only ${NAME_CHARACTERS}` })
  sensorId!: string;

  @ApiProperty({ example: 'temperature' })
  @IsDefined({ message: 'metric is required' })
  @IsString()
  @Length(1, MAX_METRIC_LENGTH)
  @Matches(NAME_PATTERN, { message: `metric must contain only ${NAME_CHARACTERS}` })
  metric!: string;

  @ApiProperty({
    example: '2026-11-28T00:00:00Z',
    description: 'Inclusive start: ISO-8601 date-time or epoch ms',
    pattern: INSTANT_PATTERN,
  })
  @IsDefined({ message: 'from is required' })
  @IsInstant()
  from!: string;

  @ApiProperty({
    example: '2026-11-29T00:00:00Z',
    description: 'Exclusive end: ISO-8601 date-time or epoch ms',
    pattern: INSTANT_PATTERN,
  })
  @IsDefined({ message: 'to is required' })
  @IsInstant()
  to!: string;

  @ApiProperty({ example: 'hour', description: 'minute, hour, day, or a fixed duration such as 5m, 15m, 6h' })
  @IsDefined({ message: 'window is required' })
  @IsWindow()
  window!: string;
}

/** Milliseconds of a validated `from`/`to` value. */
export function instantMs(value: string): number {
  return parseInstant(value) as number;
}
