/** GET /v2/aggregates: many series, tags, calendar windows in a time zone, more functions, gap filling, CSV. */
import { BadRequestException, Controller, Get, Headers, Query, Res, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { RequireScope } from '@funnel/auth';
import { listedErrors, MAX_SENSOR_ID_LENGTH, NAME_CHARACTERS } from '@funnel/contracts';

import { AggregateEngine } from './aggregate.engine.js';
import { INSTANT_PATTERN } from './aggregates-query.dto.js';
import {
  FORMATS,
  MAX_LISTED_METRICS,
  MAX_LISTED_SENSORS,
  MAX_METRIC_LIST_LENGTH,
  MAX_SENSOR_LIST_LENGTH,
  parseV2Query,
} from './aggregates-v2.query.js';
import { CALENDAR_UNITS } from './calendar.js';
import { aggregatesCsv } from './csv.js';
import { FILL_MODES } from './fill.js';
import { QueryErrorsFilter } from './query-errors.filter.js';
import { clientGoneSignal, GATE_UNAVAILABLE } from './query-gate.js';

class SeriesV2Dto {
  @ApiProperty({
    example: { 'tag.site': 'north' },
    description: 'Exactly the groupBy fields ({} for none); a tag the series lacks is null',
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
  })
  key!: Record<string, string | null>;

  @ApiProperty({
    example: [{ start: '2026-03-28T23:00:00.000Z', count: 1234, avg: 20.1, p95: 27.3 }],
    description: 'Sorted by start; `start` (ISO-8601 UTC) plus one field per function (null where undefined)',
    type: 'array',
    items: {
      type: 'object',
      required: ['start'],
      properties: { start: { type: 'string', format: 'date-time' } },
      additionalProperties: { type: 'number', nullable: true },
    },
  })
  buckets!: Array<Record<string, string | number | null>>;
}

class AggregatesV2ResponseDto {
  @ApiProperty({ example: '2026-03-29T00:00:00.000Z' })
  from!: string;
  @ApiProperty({ example: '2026-03-31T00:00:00.000Z' })
  to!: string;
  @ApiProperty({ example: 'day' })
  window!: string;
  @ApiProperty({ example: 'Europe/Berlin' })
  tz!: string;
  @ApiProperty({ example: ['count', 'avg', 'p95'] })
  fns!: string[];
  @ApiProperty({ example: ['tag.site'] })
  groupBy!: string[];
  @ApiProperty({ type: [SeriesV2Dto], description: 'Sorted by key' })
  series!: SeriesV2Dto[];
}

const NAME_LIST = `^${NAME_CHARACTERS}+(,${NAME_CHARACTERS}+)*$`;
const FN = '(count|sum|avg|min|max|first|last|spread|stddev|p[0-9]{1,3}(\\.[0-9]{1,6})?)';
const GROUP_FIELD = `(sensorId|metric|tag\\.${NAME_CHARACTERS}+)`;
const INSTANT = { type: 'string', pattern: INSTANT_PATTERN };

@ApiTags('aggregates')
@ApiExtraModels(AggregatesV2ResponseDto)
@Controller('v2/aggregates')
@UseFilters(QueryErrorsFilter)
export class AggregatesV2Controller {
  constructor(private readonly engine: AggregateEngine) {}

  @Get()
  @RequireScope('read')
  @ApiOperation({
    summary: 'Windowed aggregates of many series, grouped, in calendar windows of a time zone, gap-filled',
    description:
      'Functions per bucket of every series matched (metric, sensorId / sensorPrefix, tag.<key> filters), merged per ' +
      'groupBy key. Fixed windows are aligned to the UTC epoch; calendar units to the calendar of `tz` (DST included). ' +
      'Only readings inside [from, to) count; a first bucket that begins before `from` keeps its own start. ' +
      'Unknown parameters are refused. CSV with `Accept: text/csv` or `format=csv`.',
  })
  @ApiQuery({
    name: 'metric',
    required: true,
    description: `One metric or a comma-separated list (at most ${MAX_LISTED_METRICS})`,
    schema: { type: 'string', pattern: NAME_LIST, maxLength: MAX_METRIC_LIST_LENGTH },
    example: 'temperature',
  })
  @ApiQuery({
    name: 'sensorId',
    required: false,
    description: `Exact sensor ids, comma-separated (at most ${MAX_LISTED_SENSORS})`,
    schema: { type: 'string', pattern: NAME_LIST, maxLength: MAX_SENSOR_LIST_LENGTH },
    example: 'boiler-7,boiler-8',
  })
  @ApiQuery({
    name: 'sensorPrefix',
    required: false,
    description: 'Sensor ids starting with this',
    schema: { type: 'string', pattern: `^${NAME_CHARACTERS}+$`, maxLength: MAX_SENSOR_ID_LENGTH },
    example: 'boiler-',
  })
  @ApiQuery({
    name: 'tag',
    required: false,
    style: 'deepObject',
    explode: true,
    description:
      'Tag filters, written `tag.<key>=<value>` (or `tag[<key>]=<value>`): only readings whose tags have that value',
    schema: { type: 'object', additionalProperties: { type: 'string', maxLength: 256 } },
    example: { site: 'north' },
  })
  @ApiQuery({
    name: 'from',
    required: true,
    description: 'Inclusive: ISO-8601 with a zone, or epoch ms',
    schema: INSTANT,
    example: '2026-03-29T00:00:00Z',
  })
  @ApiQuery({
    name: 'to',
    required: true,
    description: 'Exclusive: ISO-8601 with a zone, or epoch ms',
    schema: INSTANT,
    example: '2026-03-31T00:00:00Z',
  })
  @ApiQuery({
    name: 'window',
    required: true,
    description: `A calendar unit (${CALENDAR_UNITS.join(', ')}; weeks are ISO weeks from Monday) in \`tz\`, or a fixed duration aligned to the UTC epoch (1-999999 s/m/h/d, at most 366d)`,
    schema: { type: 'string', pattern: `^(${CALENDAR_UNITS.join('|')}|[1-9][0-9]{0,5}[smhd])$` },
    example: 'day',
  })
  @ApiQuery({
    name: 'tz',
    required: false,
    description: 'IANA time zone of calendar windows (default UTC)',
    schema: { type: 'string', default: 'UTC', maxLength: 64 },
    example: 'Europe/Berlin',
  })
  @ApiQuery({
    name: 'fns',
    required: false,
    description:
      'Functions, comma-separated: count, sum, avg, min, max, first, last, spread, stddev, p<q> (0 < q <= 100, e.g. p99.9)',
    schema: { type: 'string', pattern: `^${FN}(,${FN})*$`, default: 'count,avg,min,max,sum' },
    example: 'count,avg,p95',
  })
  @ApiQuery({
    name: 'groupBy',
    required: false,
    description: 'Comma list of sensorId, metric, tag.<key>; or none to merge everything into one series',
    schema: { type: 'string', pattern: `^(none|${GROUP_FIELD}(,${GROUP_FIELD})*)$`, default: 'sensorId,metric' },
    example: 'tag.site',
  })
  @ApiQuery({
    name: 'fill',
    required: false,
    description: 'none omits empty buckets; the others emit every bucket (count 0)',
    schema: { type: 'string', enum: [...FILL_MODES], default: 'none' },
  })
  @ApiQuery({ name: 'format', required: false, schema: { type: 'string', enum: [...FORMATS], default: 'json' } })
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({
    description: 'The series and their buckets (JSON), or CSV `start,<groupBy columns>,<fns>`',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(AggregatesV2ResponseDto) } },
      'text/csv': {
        schema: { type: 'string' },
        example: 'start,tag.site,count,avg\r\n2026-03-28T23:00:00.000Z,north,1234,20.1\r\n',
      },
    },
  })
  @ApiBadRequestResponse({
    description:
      'A parameter is missing, unknown or malformed (the message names it), an instant out of range (past what a ' +
      'JavaScript Date holds: ±8,640,000,000,000,000 epoch ms), from >= to, more than ' +
      'MAX_SERIES_PER_QUERY series or MAX_POINTS_PER_QUERY series x buckets, or more raw readings to scan than ' +
      'MAX_RAW_READINGS_PER_QUERY (the message says what to ask instead)',
  })
  @ApiServiceUnavailableResponse({
    description: `${GATE_UNAVAILABLE}; or MongoDB is not available`,
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
  })
  async aggregate(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AggregatesV2ResponseDto | string> {
    const parsed = parseV2Query(raw);
    if ('problems' in parsed) {
      const { errors, moreErrors } = listedErrors(parsed.problems);
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: errors, moreErrors });
    }
    const { query } = parsed;
    const series = await this.engine.run(query, undefined, clientGoneSignal(reply.raw));
    const fns = query.fns.map((fn) => fn.name);
    const csv = parsed.format ? parsed.format === 'csv' : /\btext\/csv\b/i.test(accept ?? '');
    if (csv) {
      void reply.header('content-type', 'text/csv; charset=utf-8');
      return aggregatesCsv(series, query.groupBy, fns);
    }
    return {
      from: new Date(query.from).toISOString(),
      to: new Date(query.to).toISOString(),
      window: query.windowName,
      tz: query.tz,
      fns,
      groupBy: query.groupBy,
      series: series.map((s) => ({
        key: s.key,
        buckets: s.buckets.map((b) => ({ start: new Date(b.start).toISOString(), ...b.values })),
      })),
    };
  }
}
