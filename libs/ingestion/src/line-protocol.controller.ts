/**
 * InfluxDB line protocol: `POST /api/v2/write` (v2 clients, Telegraf's outputs.influxdb_v2) and `POST /write`
 * (1.x clients, outputs.influxdb). Each line's numeric fields become readings on the one ingest path.
 */
import { BadRequestException, Controller, Headers, HttpCode, Post, Query, Req, UseFilters } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiHeader,
  ApiNoContentResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiQuery,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

import { checkReadingSensors, RequireScope } from '@funnel/auth';
import { FunnelConfig } from '@funnel/config';
import { MAX_HEADER_ID_LENGTH, MAX_LISTED_ERRORS, listedErrors } from '@funnel/contracts';

import { V1_PRECISIONS, V2_PRECISIONS, type LineProblem, type Precision } from './formats/line-protocol.js';
import { readingsOfBody, type LineMapping } from './formats/line-protocol.readings.js';
import { bodyStream, CONTENT_ENCODINGS, readBody } from './formats/request-body.js';
import { LineProtocolRejectedDto, RejectedDto } from './ingest-response.dto.js';
import { ReadingsIntake, checkIdempotencyKey, idOrigin } from './readings.intake.js';
import { StoreFullFilter } from './store-full.filter.js';

const LINE_PROTOCOL = 'text/plain (InfluxDB line protocol)';

/** The Swagger statuses both write endpoints answer. */
function documented(): MethodDecorator {
  return (target, key, descriptor) => {
    ApiConsumes('text/plain')(target, key, descriptor);
    ApiBody({
      schema: { type: 'string' },
      examples: {
        lines: {
          value:
            'weather,sensor=boiler-7,site=plant-a temperature=21.5,pressure=1013i 1795838400000000000\n' +
            '# comments and blank lines are skipped\n\nweather,host=edge-2 humidity=40.5\n',
        },
      },
    })(target, key, descriptor);
    ApiHeader({
      name: 'Content-Encoding',
      required: false,
      description: `${CONTENT_ENCODINGS}; limits apply to the decoded body`,
    })(target, key, descriptor);
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        `Optional, 1-${MAX_HEADER_ID_LENGTH} printable ASCII characters, as on /v1/points. Without it, a body whose ` +
        'lines all carry timestamps gets ids from its content, so a retried write is stored once.',
    })(target, key, descriptor);
    ApiNoContentResponse({ description: 'Every reading was acknowledged by Kafka (acks=all)' })(
      target,
      key,
      descriptor,
    );
    ApiExtraModels(LineProtocolRejectedDto, RejectedDto)(target, key, descriptor);
    ApiBadRequestResponse({
      schema: { anyOf: [{ $ref: getSchemaPath(LineProtocolRejectedDto) }, { $ref: getSchemaPath(RejectedDto) }] },
      description:
        `Some lines are invalid, or a query parameter is: nothing of the request was accepted (all or nothing). ` +
        `The first ${MAX_LISTED_ERRORS} problems are listed with their line numbers. A malformed Idempotency-Key ` +
        'is answered as on /v1/points (RejectedDto)',
    })(target, key, descriptor);
    ApiPayloadTooLargeResponse({
      description: 'Decoded body over MAX_BODY_BYTES or more than MAX_POINTS_PER_REQUEST readings',
    })(target, key, descriptor);
    ApiUnsupportedMediaTypeResponse({
      description: `Body sent as application/json, or a Content-Encoding other than ${CONTENT_ENCODINGS}`,
    })(target, key, descriptor);
    ApiServiceUnavailableResponse({
      description: 'Kafka did not acknowledge, or the store is full; retry after the Retry-After seconds',
    })(target, key, descriptor);
  };
}

@ApiTags('ingest')
@Controller()
@RequireScope('write', { sensors: 'readings' })
@UseFilters(StoreFullFilter)
export class LineProtocolController {
  private readonly mapping: LineMapping;

  constructor(
    private readonly intake: ReadingsIntake,
    private readonly config: FunnelConfig,
  ) {
    this.mapping = {
      defaultMeasurement: config.INFLUX_DEFAULT_MEASUREMENT,
      sensorTags: config.INFLUX_SENSOR_TAGS.split(','),
    };
  }

  @Post('api/v2/write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Write InfluxDB line protocol (InfluxDB v2 API)',
    description:
      'Each numeric field of each line is one reading: metric `<measurement>.<field>` (the field alone for ' +
      'INFLUX_DEFAULT_MEASUREMENT), sensorId from the first tag of INFLUX_SENSOR_TAGS, the other tags as tags. ' +
      '`org` and `bucket` are accepted and not used. See docs/ingest-formats.md.',
  })
  @ApiQuery({ name: 'org', required: false })
  @ApiQuery({ name: 'bucket', required: false })
  @ApiQuery({ name: 'precision', required: false, enum: Object.keys(V2_PRECISIONS), description: 'Default ns' })
  @documented()
  async writeV2(
    @Req() request: FastifyRequest,
    @Query('precision') precision: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<void> {
    await this.write(request, precisionOf(precision, V2_PRECISIONS), idempotencyKey);
  }

  @Post('write')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Write InfluxDB line protocol (InfluxDB 1.x API)',
    description: 'As /api/v2/write; `db`, `rp`, `u`, `p` are accepted and not used.',
  })
  @ApiQuery({ name: 'db', required: false })
  @ApiQuery({ name: 'precision', required: false, enum: Object.keys(V1_PRECISIONS), description: 'Default ns' })
  @documented()
  async writeV1(
    @Req() request: FastifyRequest,
    @Query('precision') precision: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<void> {
    await this.write(request, precisionOf(precision, V1_PRECISIONS), idempotencyKey);
  }

  private async write(
    request: FastifyRequest,
    precision: Precision,
    idempotencyKey: string | undefined,
  ): Promise<void> {
    const receivedAt = Date.now();
    checkIdempotencyKey(idempotencyKey);
    const body = await readBody(bodyStream(request, LINE_PROTOCOL), this.config.MAX_BODY_BYTES);
    const text = body.toString('utf8');
    const mapped = readingsOfBody(text, this.mapping, precision, receivedAt);
    // Only the line numbers are captured (kept until Kafka acknowledged), not the readings.
    const lineOf = mapped.lineOf;
    checkReadingSensors(
      request,
      mapped.readings.map((r) => r.sensorId),
      (i) => `line ${lineOf[i]}`,
    );
    const problems = mapped.problems;
    if (problems.length === 0 && mapped.readings.length === 0) {
      throw rejected('writing requires points: the body has no lines of line protocol', []);
    }
    // Precision too: the same digits at another precision are other readings.
    const ids = idOrigin(idempotencyKey, mapped.allTimestamped ? `${precision}\n${text}` : undefined, true);
    if (mapped.readings.length > 0) {
      // Validated even when some lines failed to parse, so that one answer lists every bad line.
      const result = this.intake.validate(mapped.readings, receivedAt, ids);
      if (result.ok && problems.length === 0) {
        await this.intake.publish(result.points, receivedAt, ids);
        return;
      }
      for (const error of result.ok ? [] : result.errors) {
        problems.push({ line: lineOf[error.index] ?? 0, reason: `${error.field} ${error.reason}` });
      }
    }
    problems.sort((a, b) => a.line - b.line);
    const lines = new Set(problems.map((p) => p.line)).size;
    throw rejected(`${lines} line${lines === 1 ? ' is' : 's are'} invalid; nothing was accepted`, problems);
  }
}

function precisionOf(value: unknown, accepted: Readonly<Record<string, Precision>>): Precision {
  if (value === undefined || value === '') return 'ns';
  const precision = typeof value === 'string' ? accepted[value] : undefined;
  if (precision === undefined || !Object.hasOwn(accepted, value as string)) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      code: 'invalid',
      message: `precision must be one of ${Object.keys(accepted).join(', ')}`,
      errors: [],
    });
  }
  return precision;
}

/** A 400 in InfluxDB's shape (`code`, `message`) with Funnel's list of problems by line. */
function rejected(message: string, problems: LineProblem[]): BadRequestException {
  const first = problems[0];
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    code: 'invalid',
    message: first === undefined ? message : `${message} (line ${first.line}: ${first.reason})`,
    ...listedErrors(problems),
  });
}
