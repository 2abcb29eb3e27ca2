/** GET /v1/points: one series' raw readings in time order, streamed as NDJSON or CSV, a page at a time. */
import { Readable } from 'node:stream';

import { BadRequestException, Controller, Get, Headers, Query, Res, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { RequireScope } from '@funnel/auth';
import { FunnelConfig } from '@funnel/config';
import { isName, listedErrors, MAX_METRIC_LENGTH, MAX_SENSOR_ID_LENGTH, NAME_CHARACTERS } from '@funnel/contracts';
import { RawReadingsExport, ReadTimedOut, type ExportedReading, type ExportPosition } from '@funnel/storage';

import { INSTANT_PATTERN, instantProblem, parseInstant } from './aggregates-query.dto.js';
import { unknownParameter } from './aggregates-v2.query.js';
import { csvField } from './csv.js';
import { QueryErrorsFilter } from './query-errors.filter.js';
import { timedOut } from './query-gate.js';
import { EmptyRange } from './query-rejected.js';

const PARAMETERS = ['sensorId', 'metric', 'from', 'to', 'limit', 'cursor', 'format'] as const;
const MAX_LIMIT = 100_000;
const DEFAULT_LIMIT = 10_000;
/** The header carrying the cursor of the next page (absent on the last page). */
export const NEXT_CURSOR_HEADER = 'x-next-cursor';

/** An export cursor: base64url of `<ts>:<24 hex _id>`. */
export function encodeCursor(p: ExportPosition): string {
  return Buffer.from(`${p.ts}:${p.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): ExportPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(cursor)) return undefined;
  const match = /^(-?\d{1,16}):([0-9a-f]{24})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? { ts: Number(match[1]), id: match[2]! } : undefined;
}

const CSV_HEADER = 'ts,sensorId,metric,value,id,tags\r\n';

function csvLine(r: ExportedReading): string {
  const tags = r.tags
    ? Object.entries(r.tags)
        .map(([k, v]) => `${k}=${v}`)
        .join(';')
    : '';
  return `${[new Date(r.ts).toISOString(), r.sensorId, r.metric, r.value, r.id, tags].map(csvField).join(',')}\r\n`;
}

@ApiTags('points')
@Controller('v1/points')
@UseFilters(QueryErrorsFilter)
export class PointsExportController {
  constructor(
    private readonly exporter: RawReadingsExport,
    private readonly config: FunnelConfig,
  ) {}

  @Get()
  @RequireScope('read', { sensors: { query: 'sensorId' } })
  @ApiOperation({
    summary: 'Export one series’ raw readings in time order (NDJSON or CSV, streamed, paged)',
    description: `At most \`limit\` readings per answer; the \`${NEXT_CURSOR_HEADER}\` header holds the cursor of the next page.`,
  })
  @ApiQuery({
    name: 'sensorId',
    required: true,
    schema: { type: 'string', pattern: `^${NAME_CHARACTERS}+$`, maxLength: MAX_SENSOR_ID_LENGTH },
    example: 'boiler-7',
  })
  @ApiQuery({
    name: 'metric',
    required: true,
    schema: { type: 'string', pattern: `^${NAME_CHARACTERS}+$`, maxLength: MAX_METRIC_LENGTH },
    example: 'temperature',
  })
  @ApiQuery({
    name: 'from',
    required: true,
    schema: { type: 'string', pattern: INSTANT_PATTERN },
    description: 'Inclusive: ISO-8601 with a zone, or epoch ms',
    example: '2026-11-28T00:00:00Z',
  })
  @ApiQuery({
    name: 'to',
    required: true,
    schema: { type: 'string', pattern: INSTANT_PATTERN },
    description: 'Exclusive: ISO-8601 with a zone, or epoch ms',
    example: '2026-11-29T00:00:00Z',
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
  })
  @ApiQuery({
    name: 'cursor',
    required: false,
    schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    description: `The \`${NEXT_CURSOR_HEADER}\` of the previous page`,
  })
  @ApiQuery({ name: 'format', required: false, schema: { type: 'string', enum: ['ndjson', 'csv'] } })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({
    description:
      'One reading per line: NDJSON objects {id, sensorId, metric, ts, value, tags?}, or CSV `ts,sensorId,metric,value,id,tags`',
    headers: { [NEXT_CURSOR_HEADER]: { description: 'Cursor of the next page, if any', schema: { type: 'string' } } },
  })
  @ApiBadRequestResponse({
    description:
      'A parameter is missing, unknown or malformed (the message names it), an instant out of range (past what a ' +
      'JavaScript Date holds: ±8,640,000,000,000,000 epoch ms), or from >= to',
  })
  @ApiServiceUnavailableResponse({
    description: 'MongoDB is not available, or the page took longer than QUERY_TIMEOUT_MS',
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
  })
  async export(
    @Query() raw: Record<string, unknown>,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Readable> {
    const problems: string[] = [];
    const text: Record<string, string> = {};
    for (const [name, value] of Object.entries(raw)) {
      if (typeof value !== 'string') problems.push(`${name.slice(0, 80)} must be given once`);
      else if ((PARAMETERS as readonly string[]).includes(name)) text[name] = value;
      else problems.push(unknownParameter(name, PARAMETERS, false));
    }
    for (const [param, max] of [
      ['sensorId', MAX_SENSOR_ID_LENGTH],
      ['metric', MAX_METRIC_LENGTH],
    ] as const) {
      if (text[param] === undefined) problems.push(`${param} is required`);
      else if (!isName(text[param], max)) problems.push(`${param} must be 1-${max} characters of ${NAME_CHARACTERS}`);
    }
    const [from, to] = (['from', 'to'] as const).map((param) => {
      if (text[param] === undefined) {
        problems.push(`${param} is required`);
        return undefined;
      }
      const problem = instantProblem(param, text[param]);
      if (problem !== undefined) problems.push(problem);
      return parseInstant(text[param]);
    });
    const limit = text.limit === undefined ? DEFAULT_LIMIT : Number(text.limit);
    if (text.limit !== undefined && !(/^\d{1,6}$/.test(text.limit) && limit >= 1 && limit <= MAX_LIMIT)) {
      problems.push(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    const after = text.cursor === undefined ? undefined : decodeCursor(text.cursor);
    if (text.cursor !== undefined && !after)
      problems.push(`cursor must be the ${NEXT_CURSOR_HEADER} of a previous page`);
    if (text.format !== undefined && text.format !== 'ndjson' && text.format !== 'csv') {
      problems.push('format must be one of ndjson, csv');
    }
    if (problems.length > 0) {
      const { errors, moreErrors } = listedErrors(problems);
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: errors, moreErrors });
    }
    if (from! >= to!) throw new EmptyRange(text.from!, text.to!);
    const page = await this.exporter
      .page(
        { sensorId: text.sensorId!, metric: text.metric!, from: from!, to: to!, limit, ...(after ? { after } : {}) },
        this.config.QUERY_TIMEOUT_MS,
      )
      .catch((error: unknown) => {
        throw error instanceof ReadTimedOut ? timedOut(this.config.QUERY_TIMEOUT_MS) : error;
      });
    const csv = text.format ? text.format === 'csv' : /\btext\/csv\b/i.test(accept ?? '');
    void reply.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson');
    if (page.next) void reply.header(NEXT_CURSOR_HEADER, encodeCursor(page.next));
    async function* lines(): AsyncIterable<string> {
      try {
        if (csv) yield CSV_HEADER;
        for await (const r of page.readings)
          yield csv ? csvLine(r) : `${JSON.stringify({ ...r, ts: new Date(r.ts).toISOString() })}\n`;
      } finally {
        await page.close();
      }
    }
    return Readable.from(lines());
  }
}
