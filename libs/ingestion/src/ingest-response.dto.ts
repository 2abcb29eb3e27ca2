/** The bodies POST /v1/points answers with, as OpenAPI documents them. */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import { MAX_LISTED_ERRORS } from '@funnel/contracts';

export class AcceptedDto {
  @ApiProperty({ example: 2, description: 'Readings the broker acknowledged' })
  accepted!: number;
}

export class PointErrorDto {
  @ApiProperty({
    example: 0,
    description: 'Position of the reading in the request (0 for a single object; -1 for the body as a whole)',
  })
  index!: number;

  @ApiProperty({ example: 'value' })
  field!: string;

  @ApiProperty({ example: 'must be a finite number' })
  reason!: string;
}

export class RejectedDto {
  @ApiProperty({ example: 1 })
  statusCode!: number;

  @ApiProperty({ example: '1 of 2 readings are invalid; nothing was accepted' })
  message!: string;

  @ApiPropertyOptional({
    type: [PointErrorDto],
    maxItems: MAX_LISTED_ERRORS,
    description: 'The first problems found; absent when the body is not JSON at all (`message` says why)',
  })
  errors?: PointErrorDto[];

  @ApiPropertyOptional({ example: 9900, description: 'Problems found beyond those listed; absent when all are listed' })
  moreErrors?: number;
}

export class LineProblemDto {
  @ApiProperty({ example: 3, description: 'Line number in the body, from 1' })
  line!: number;

  @ApiProperty({ example: 'field "state" is a string; Funnel stores numeric fields only (float, integer, unsigned)' })
  reason!: string;
}

export class LineProtocolRejectedDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'invalid', description: "InfluxDB's error code, which its clients read" })
  code!: string;

  @ApiProperty({ example: '1 line is invalid; nothing was accepted (line 3: field "state" is a string; ...)' })
  message!: string;

  @ApiProperty({ type: [LineProblemDto], maxItems: MAX_LISTED_ERRORS, description: 'The first problems found' })
  errors!: LineProblemDto[];

  @ApiPropertyOptional({ example: 12, description: 'Problems found beyond those listed; absent when all are listed' })
  moreErrors?: number;
}

export class ImportResultDto {
  @ApiProperty({ example: 999998, description: 'Readings the broker acknowledged' })
  accepted!: number;

  @ApiProperty({ example: 2, description: 'Lines refused (not JSON, or a reading breaking a rule)' })
  refused!: number;

  @ApiProperty({ type: [LineProblemDto], maxItems: MAX_LISTED_ERRORS, description: 'The first refused lines' })
  errors!: LineProblemDto[];

  @ApiPropertyOptional({ example: 12, description: 'Refused lines beyond those listed; absent when all are listed' })
  moreErrors?: number;
}
