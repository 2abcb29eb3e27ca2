/**
 * POST /v1/otlp/metrics: OpenTelemetry metrics over OTLP/HTTP, protobuf or JSON. Gauge and sum points become
 * readings on the one ingest path; what cannot be stored is reported in `partial_success`, as OTLP requires.
 */
import {
  BadRequestException,
  Controller,
  Headers,
  HttpCode,
  Post,
  Req,
  Res,
  UnsupportedMediaTypeException,
  UseFilters,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { checkReadingSensors, RequireScope } from '@funnel/auth';
import { FunnelConfig } from '@funnel/config';

import { ExportRequest, ExportResponse, OBJECT_OPTIONS, type OtlpRequest } from './formats/otlp-metrics.proto.js';
import { readingsOfExport } from './formats/otlp-readings.js';
import { bodyStream, CONTENT_ENCODINGS, readBody } from './formats/request-body.js';
import { ReadingsIntake, checkIdempotencyKey, idOrigin } from './readings.intake.js';
import { StoreFullFilter } from './store-full.filter.js';

const PROTOBUF = 'application/x-protobuf';

@ApiTags('ingest')
@Controller('v1/otlp/metrics')
@RequireScope('write', { sensors: 'readings' })
@UseFilters(StoreFullFilter)
export class OtlpController {
  private readonly sensorKeys: readonly string[];

  constructor(
    private readonly intake: ReadingsIntake,
    private readonly config: FunnelConfig,
  ) {
    this.sensorKeys = config.OTLP_SENSOR_ATTRIBUTES.split(',');
  }

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'OTLP/HTTP metrics export (protobuf or JSON)',
    description:
      'Gauge and sum data points become readings: metric = the metric name, sensorId = the first of ' +
      'OTLP_SENSOR_ATTRIBUTES on the point, else on the resource; the point attributes are tags. Histogram, ' +
      'exponential-histogram and summary points are rejected, as are points breaking a reading rule: they are ' +
      'counted in partial_success.rejected_data_points and the rest is stored. The answer comes in the ' +
      `request's encoding, after Kafka acknowledged every stored point. Content-Encoding: ${CONTENT_ENCODINGS}.`,
  })
  @ApiConsumes(PROTOBUF, 'application/json')
  @ApiProduces(PROTOBUF, 'application/json')
  @ApiOkResponse({
    description: 'ExportMetricsServiceResponse; partial_success set when some points were rejected',
    schema: {
      type: 'object',
      properties: {
        partialSuccess: {
          type: 'object',
          properties: { rejectedDataPoints: { type: 'string', example: '3' }, errorMessage: { type: 'string' } },
        },
      },
    },
  })
  @ApiBadRequestResponse({ description: 'The body is not an ExportMetricsServiceRequest' })
  @ApiPayloadTooLargeResponse({
    description: 'Decoded body over MAX_BODY_BYTES or more than MAX_POINTS_PER_REQUEST points',
  })
  @ApiUnsupportedMediaTypeResponse({
    description: `Neither ${PROTOBUF} nor application/json, or an unknown Content-Encoding`,
  })
  @ApiServiceUnavailableResponse({
    description: 'Kafka did not acknowledge, or the store is full: retry (Retry-After)',
  })
  async export(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<Buffer | object> {
    const receivedAt = Date.now();
    checkIdempotencyKey(idempotencyKey);
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let decoded: OtlpRequest;
    let content: Buffer | string;
    if (type === 'application/json') {
      content = JSON.stringify(request.body ?? {});
      decoded = this.fromJson(request.body);
    } else if (type === PROTOBUF) {
      content = await readBody(bodyStream(request, PROTOBUF), this.config.MAX_BODY_BYTES);
      decoded = this.fromProtobuf(content);
    } else {
      throw new UnsupportedMediaTypeException(
        `media type ${JSON.stringify(type)} is not accepted here; send ${PROTOBUF} or application/json (OTLP/HTTP)`,
      );
    }
    const mapped = readingsOfExport(decoded, this.sensorKeys, receivedAt);
    checkReadingSensors(
      request,
      mapped.readings.map((r) => r.sensorId),
      (i) => `gauge or sum data point ${i}`,
    );
    // Exporters retry a failed export with the same body: ids from the content make the retry stored once.
    const ids = idOrigin(idempotencyKey, content);
    const { points, refused } = this.intake.validateEach(mapped.readings, receivedAt, ids);
    if (points.length > 0) await this.intake.publish(points, receivedAt, ids);
    for (const problem of new Set([...refused.values()].map((e) => `${e.field} ${e.reason}`))) {
      mapped.reasons.add(`a data point's ${problem}`);
    }
    const rejected = mapped.rejected + refused.size;
    const response =
      rejected === 0
        ? {}
        : { partialSuccess: { rejectedDataPoints: String(rejected), errorMessage: [...mapped.reasons].join('; ') } };
    if (type === PROTOBUF) {
      void reply.header('content-type', PROTOBUF);
      return Buffer.from(ExportResponse.encode(ExportResponse.fromObject(response)).finish());
    }
    return response;
  }

  private fromProtobuf(body: Buffer): OtlpRequest {
    try {
      return ExportRequest.toObject(ExportRequest.decode(body), OBJECT_OPTIONS) as OtlpRequest;
    } catch (error) {
      throw new BadRequestException(`body is not an OTLP ExportMetricsServiceRequest: ${(error as Error).message}`);
    }
  }

  private fromJson(body: unknown): OtlpRequest {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new BadRequestException('body must be an OTLP ExportMetricsServiceRequest JSON object');
    }
    try {
      return ExportRequest.toObject(ExportRequest.fromObject(body), OBJECT_OPTIONS) as OtlpRequest;
    } catch (error) {
      throw new BadRequestException(`body is not an OTLP ExportMetricsServiceRequest: ${(error as Error).message}`);
    }
  }
}
