import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';

import { KnownQueryKeys } from '@funnel/contracts';

import { AggregatesQueryDto } from './aggregates-query.dto.js';
import { AggregatesResponseDto } from './aggregates-response.dto.js';
import { AggregationService } from './aggregation.service.js';

@ApiTags('aggregates')
@Controller('v1/aggregates')
export class AggregatesController {
  constructor(private readonly aggregation: AggregationService) {}

  @Get()
  @KnownQueryKeys('sensorId', 'metric', 'from', 'to', 'window')
  @ApiOperation({
    summary: 'Windowed aggregates of one series',
    description:
      'count/avg/min/max/sum per fixed window, buckets aligned to the epoch in UTC, from inclusive, to exclusive, empty buckets omitted.',
  })
  @ApiOkResponse({ type: AggregatesResponseDto })
  @ApiBadRequestResponse({ description: 'A parameter is missing or malformed, from >= to, or too many buckets' })
  aggregate(@Query() query: AggregatesQueryDto): Promise<AggregatesResponseDto> {
    return this.aggregation.aggregate(query);
  }
}
