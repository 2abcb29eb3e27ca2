/** GET /v1/series: the series the catalog knows, filtered by metric, sensor prefix and tags, a page at a time. */
import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';

import { RequireScope } from '@funnel/auth';
import { isName, listedErrors, MAX_METRIC_LENGTH, MAX_SENSOR_ID_LENGTH, NAME_CHARACTERS } from '@funnel/contracts';
import { SeriesCatalogRepository, type CatalogSelector } from '@funnel/storage';

import { tagParameter, unknownParameter } from './aggregates-v2.query.js';

const PARAMETERS = ['metric', 'sensorPrefix', 'limit', 'cursor'] as const;
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const CURSOR = /^[A-Za-z0-9_-]{1,64}$/;

class SeriesEntryDto {
  @ApiProperty({ example: 'boiler-7' })
  sensorId!: string;
  @ApiProperty({ example: 'temperature' })
  metric!: string;
  @ApiProperty({ example: { site: 'north' }, type: 'object', additionalProperties: { type: 'string' } })
  tags!: Record<string, string>;
  @ApiProperty({ example: '2026-11-28T04:00:00.000Z' })
  firstTs!: string;
  @ApiProperty({ example: '2026-11-28T05:59:00.000Z' })
  lastTs!: string;
  @ApiProperty({ example: 7200, description: 'Readings compacted into the tiers so far' })
  count!: number;
}

class SeriesPageDto {
  @ApiProperty({ type: [SeriesEntryDto] })
  series!: SeriesEntryDto[];
  @ApiPropertyOptional({
    example: 'x3Kd9Qm2aLpZr7VbT0cY1w',
    description: 'Pass as cursor for the next page; absent on the last',
  })
  next?: string;
}

@ApiTags('series')
@Controller('v1/series')
export class SeriesController {
  constructor(private readonly catalog: SeriesCatalogRepository) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({ summary: 'List series (sensorId, metric, tags) with their first and last reading time and count' })
  @ApiQuery({
    name: 'metric',
    required: false,
    schema: { type: 'string', pattern: `^${NAME_CHARACTERS}+$`, maxLength: MAX_METRIC_LENGTH },
    example: 'temperature',
  })
  @ApiQuery({
    name: 'sensorPrefix',
    required: false,
    schema: { type: 'string', pattern: `^${NAME_CHARACTERS}+$`, maxLength: MAX_SENSOR_ID_LENGTH },
    example: 'boiler-',
  })
  @ApiQuery({
    name: 'tag',
    required: false,
    style: 'deepObject',
    explode: true,
    description: 'Tag filters, written `tag.<key>=<value>` (or `tag[<key>]=<value>`)',
    schema: { type: 'object', additionalProperties: { type: 'string', maxLength: 256 } },
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string', pattern: CURSOR.source },
    description: '`next` of the previous page',
  })
  @ApiOkResponse({ type: SeriesPageDto })
  @ApiBadRequestResponse({ description: 'A parameter is unknown or malformed (the message names it)' })
  @ApiServiceUnavailableResponse({
    description: 'MongoDB is not available',
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
  })
  async list(@Query() raw: Record<string, unknown>): Promise<SeriesPageDto> {
    const problems: string[] = [];
    const tags: Record<string, string> = {};
    const text: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'string') problems.push(`${name.slice(0, 80)} must be given once`);
      else if (!tagParameter(name, value, tags, problems)) {
        if ((PARAMETERS as readonly string[]).includes(name)) text[name] = value;
        else problems.push(unknownParameter(name, PARAMETERS));
      }
    }
    if (text.metric !== undefined && !isName(text.metric, MAX_METRIC_LENGTH)) {
      problems.push(`metric must be 1-${MAX_METRIC_LENGTH} characters of ${NAME_CHARACTERS}`);
    }
    if (text.sensorPrefix !== undefined && !isName(text.sensorPrefix, MAX_SENSOR_ID_LENGTH)) {
      problems.push(`sensorPrefix must be 1-${MAX_SENSOR_ID_LENGTH} characters of ${NAME_CHARACTERS}`);
    }
    const limit = text.limit === undefined ? DEFAULT_LIMIT : Number(text.limit);
    if (text.limit !== undefined && !(/^\d{1,4}$/.test(text.limit) && limit >= 1 && limit <= MAX_LIMIT)) {
      problems.push(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    if (text.cursor !== undefined && !CURSOR.test(text.cursor))
      problems.push('cursor must be the `next` of a previous page');
    if (problems.length > 0) {
      const { errors, moreErrors } = listedErrors(problems);
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: errors, moreErrors });
    }
    const selector: CatalogSelector = {
      ...(text.metric !== undefined ? { metrics: [text.metric] } : {}),
      ...(text.sensorPrefix !== undefined ? { sensorPrefix: text.sensorPrefix } : {}),
      ...(Object.keys(tags).length > 0 ? { tags } : {}),
    };
    return this.catalog.list(selector, limit, text.cursor);
  }
}
