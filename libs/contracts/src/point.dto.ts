/** The class-validator DTO of one posted reading: its OpenAPI schema and the wording of every problem with it. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNumber, IsString, Length, Matches, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';

import {
  ID_PATTERN,
  MAX_ID_LENGTH,
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  MAX_TAGS,
  NAME_CHARACTERS,
  NAME_PATTERN,
  parseTimestamp,
  tagsProblem,
} from './reading-rules.js';

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

/** One sensor reading as producers POST it. */
export class PointDto {
  @ApiPropertyOptional({
    example: 'boiler-7:2026-11-28T04:00:00Z',
    minLength: 1,
    maxLength: MAX_ID_LENGTH,
    pattern: ID_PATTERN.source,
    description:
      'Optional client id of the reading: a reading with an id already stored is not stored again. ' +
      'Without it, the api derives one from the Idempotency-Key header (or a per-request key) and the index.',
  })
  @IsPresent()
  @IsString({ message: 'must be a string' })
  @Matches(ID_PATTERN, { message: `must be 1-${MAX_ID_LENGTH} characters of ${NAME_CHARACTERS}` })
  id?: string;

  @ApiProperty({ example: 'boiler-7', minLength: 1, maxLength: MAX_SENSOR_ID_LENGTH, pattern: NAME_PATTERN.source })
  @IsString({ message: 'must be a string' })
  @Length(1, MAX_SENSOR_ID_LENGTH, { message: `must be 1-${MAX_SENSOR_ID_LENGTH} characters long` })
  @Matches(NAME_PATTERN, { message: `must contain only ${NAME_CHARACTERS}` })
  sensorId!: string;

  @ApiProperty({ example: 'temperature', minLength: 1, maxLength: MAX_METRIC_LENGTH, pattern: NAME_PATTERN.source })
  @IsString({ message: 'must be a string' })
  @Length(1, MAX_METRIC_LENGTH, { message: `must be 1-${MAX_METRIC_LENGTH} characters long` })
  @Matches(NAME_PATTERN, { message: `must contain only ${NAME_CHARACTERS}` })
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
