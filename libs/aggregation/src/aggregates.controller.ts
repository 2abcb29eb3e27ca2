/** GET /v1/aggregates: checks the query string and answers the service's buckets, or 400 for a refused query. */
import { BadRequestException, Controller, Get, Query, Res, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { RequireScope } from '@funnel/auth';
import { KnownQueryKeys, MAX_LISTED_ERRORS } from '@funnel/contracts';
import { TierExpired } from '@funnel/storage';

import { AggregatesQueryDto } from './aggregates-query.dto.js';
import { AggregatesResponseDto } from './aggregates-response.dto.js';
import { AggregationService } from './aggregation.service.js';
import { QueryErrorsFilter } from './query-errors.filter.js';
import { clientGoneSignal, GATE_UNAVAILABLE } from './query-gate.js';
import { QueryRejected } from './query-rejected.js';

@ApiTags('aggregates')
@Controller('v1/aggregates')
@UseFilters(QueryErrorsFilter)
export class AggregatesController {
  constructor(private readonly aggregation: AggregationService) {}

  @Get()
  @RequireScope('read', { sensors: { query: 'sensorId' } })
  @KnownQueryKeys(AggregatesQueryDto)
  @ApiOperation({
    summary: 'Windowed aggregates of one series',
    description:
      'count/avg/min/max/sum per fixed window, buckets aligned to the epoch in UTC, from inclusive, to exclusive, empty buckets omitted.',
  })
  @ApiOkResponse({ type: AggregatesResponseDto })
  @ApiBadRequestResponse({
    description:
      'A parameter is missing, unknown or malformed, an instant out of range (past what a JavaScript Date holds: ' +
      '±8,640,000,000,000,000 epoch ms), from >= to, too many buckets, more raw readings to scan than ' +
      'MAX_RAW_READINGS_PER_QUERY (the message says what to ask instead), or a range that needs a tier past its ' +
      `retention (RETENTION_*); at most ${MAX_LISTED_ERRORS} problems are listed, \`moreErrors\` counts the rest`,
  })
  @ApiServiceUnavailableResponse({
    description: `MongoDB is not available; or ${GATE_UNAVAILABLE}`,
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
  })
  async aggregate(
    @Query() query: AggregatesQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AggregatesResponseDto> {
    try {
      return await this.aggregation.aggregate(query, clientGoneSignal(reply.raw));
    } catch (error) {
      throw error instanceof QueryRejected || error instanceof TierExpired
        ? new BadRequestException(error.message)
        : error;
    }
  }
}
