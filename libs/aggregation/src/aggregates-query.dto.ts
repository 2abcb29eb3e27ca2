/** The query string of GET /v1/aggregates, validated with the same reading rules as ingest. */
import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, Length, Matches, ValidateBy } from 'class-validator';

import {
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

const IsInstant = () =>
  ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value) => parseInstant(value) !== undefined,
      defaultMessage: (args) =>
        `${args?.property} must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T00:00:00Z) or integer epoch milliseconds`,
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

  @ApiProperty({ example: '2026-11-28T00:00:00Z', description: 'Inclusive start: ISO-8601 date-time or epoch ms' })
  @IsDefined({ message: 'from is required' })
  @IsInstant()
  from!: string;

  @ApiProperty({ example: '2026-11-29T00:00:00Z', description: 'Exclusive end: ISO-8601 date-time or epoch ms' })
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
