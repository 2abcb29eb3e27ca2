/** GET /v1/dlq lists dead letters; POST /v1/dlq/replay sends chosen ones back to the main topic. */
import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';

import { RequireScope } from '@funnel/auth';
import { FunnelConfig } from '@funnel/config';
import { KnownQueryKeys } from '@funnel/contracts';
import { DEAD_LETTER_BASE64, DeadLettersRepository } from '@funnel/storage';

import { DeadLetterReplay } from './dead-letters.replay.js';

class DeadLettersQueryDto {
  @ApiPropertyOptional({ example: 50, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

class ReplayDto {
  @ApiProperty({
    example: ['funnel.points:0:42'],
    description: 'Dead-letter ids (`<topic>:<partition>:<offset>`)',
    type: [String],
    minItems: 1,
    maxItems: 1000,
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  ids!: string[];
}

class DeadLetterDto {
  @ApiProperty({ example: 'funnel.points:0:42' })
  id!: string;
  @ApiProperty({ example: 'points[0] has a value that is not a finite number' })
  reason!: string;
  @ApiProperty({ example: 'funnel.points' })
  sourceTopic!: string;
  @ApiProperty({ example: 0 })
  partition!: number;
  @ApiProperty({ example: '42' })
  offset!: string;
  @ApiProperty({
    example: '{"v":1,"points":[...]}',
    description:
      'The record value as received, its first 64 Ki characters: the bytes as UTF-8 text when they are valid ' +
      'UTF-8, else their base64 (see `encoding`; the preview of a base64 value decodes to its first 48 KiB)',
  })
  value!: string;
  @ApiPropertyOptional({
    enum: [DEAD_LETTER_BASE64],
    description:
      'Present (`base64`) when the record value is not valid UTF-8 (e.g. a binary format) and `value` is the ' +
      'base64 of its bytes; absent when `value` is the text itself',
  })
  encoding?: typeof DEAD_LETTER_BASE64;
  @ApiProperty({ example: '2026-11-28T04:00:00.000Z' })
  deadLetteredAt!: string;
  @ApiPropertyOptional({ example: '2026-11-28T05:00:00.000Z' })
  replayedAt?: string;
}

class ReplayedDto {
  @ApiProperty({ example: 1, description: 'Dead letters sent back to the main topic' })
  replayed!: number;
}

/** Dead letters: records the worker could not use, kept in `<topic>.dlq` and listed from MongoDB. */
@ApiTags('dead letters')
@Controller('v1/dlq')
@RequireScope('admin')
export class DeadLettersController {
  constructor(
    private readonly deadLetters: DeadLettersRepository,
    private readonly replays: DeadLetterReplay,
    private readonly config: FunnelConfig,
  ) {}

  @Get()
  @KnownQueryKeys(DeadLettersQueryDto)
  @ApiOperation({ summary: 'Recent dead letters, newest first' })
  @ApiOkResponse({ type: [DeadLetterDto] })
  @ApiBadRequestResponse({ description: 'An unknown query parameter, or limit not an integer 1-1000' })
  async list(@Query() query: DeadLettersQueryDto): Promise<DeadLetterDto[]> {
    const letters = await this.deadLetters.list(query.limit ?? 100, this.config.KAFKA_TOPIC);
    return letters.map(({ _id, key: _key, replays: _replays, ...letter }) => ({
      ...letter,
      id: _id,
      deadLetteredAt: new Date(letter.deadLetteredAt).toISOString(),
      replayedAt: letter.replayedAt ? new Date(letter.replayedAt).toISOString() : undefined,
    }));
  }

  @Post('replay')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Send chosen dead letters back to the main topic',
    description:
      'For after the cause was fixed (e.g. a worker that rejected valid records). Each record is published with ' +
      'the bytes it was received with (a base64 letter as its decoded bytes), whether or not the worker can now ' +
      'decode it; one it still cannot use becomes a new dead letter. Answers after the broker ack.',
  })
  @ApiAcceptedResponse({ type: ReplayedDto, description: 'Every chosen dead letter was acknowledged by Kafka' })
  @ApiBadRequestResponse({
    description: 'The body is not `{ ids: [1-1000 strings] }`, or a chosen dead letter came from another topic',
  })
  @ApiNotFoundResponse({ description: 'No dead letter has one of the ids (none is replayed)' })
  @ApiServiceUnavailableResponse({ description: 'Kafka did not acknowledge the records; retry after Retry-After' })
  @ApiConflictResponse({ description: 'A named letter was already replayed (once only); nothing was replayed' })
  @ApiUnprocessableEntityResponse({
    description: 'A named letter is not stored whole (it would publish a truncated record); nothing was replayed',
  })
  async replay(@Body() body: ReplayDto): Promise<{ replayed: number }> {
    return { replayed: await this.replays.replay(body.ids) };
  }
}
