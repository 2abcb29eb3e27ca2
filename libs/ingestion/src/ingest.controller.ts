/** POST /v1/points: checks the Idempotency-Key and the readings, publishes them, answers after the broker's ack. */
import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  Post,
  UnprocessableEntityException,
  UseFilters,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';

import { RequireScope } from '@funnel/auth';
import { MAX_HEADER_ID_LENGTH, MAX_LISTED_ERRORS, PointDto, listedErrors } from '@funnel/contracts';

import { IdempotencyKeys } from './idempotency-keys.js';
import { AcceptedDto, RejectedDto } from './ingest-response.dto.js';
import { ReadingsIntake, checkIdempotencyKey, idOrigin } from './readings.intake.js';
import { StoreFullFilter } from './store-full.filter.js';

@ApiTags('ingest')
@ApiExtraModels(PointDto)
@Controller('v1/points')
@UseFilters(StoreFullFilter)
export class IngestController {
  constructor(
    private readonly intake: ReadingsIntake,
    private readonly idempotency: IdempotencyKeys,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireScope('write', { sensors: 'body' })
  @ApiOperation({
    summary: 'Ingest one reading or an array of readings',
    description:
      'Answers 202 only after Kafka acknowledged every reading (acks=all). If any reading is invalid, ' +
      'none is accepted and every problem is listed.',
  })
  @ApiBody({
    schema: { oneOf: [{ $ref: getSchemaPath(PointDto) }, { type: 'array', items: { $ref: getSchemaPath(PointDto) } }] },
    examples: {
      single: { value: { sensorId: 'boiler-7', metric: 'temperature', value: 21.5, ts: '2026-11-28T04:00:00Z' } },
      batch: {
        value: [
          { sensorId: 'boiler-7', metric: 'temperature', value: 21.5, tags: { site: 'plant-a' } },
          { sensorId: 'boiler-7', metric: 'pressure', value: 1.7, ts: 1795838400000 },
        ],
      },
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      `Optional, 1-${MAX_HEADER_ID_LENGTH} printable ASCII characters. Readings without an \`id\` get ids derived ` +
      'from this key and their index, so retrying the same request with the same key stores each reading once.',
  })
  @ApiAcceptedResponse({ type: AcceptedDto })
  @ApiBadRequestResponse({
    type: RejectedDto,
    description:
      `Invalid readings or malformed JSON: the first ${MAX_LISTED_ERRORS} problems are listed in \`errors\`, ` +
      'and `moreErrors` counts the rest when there are more',
  })
  @ApiPayloadTooLargeResponse({ description: 'Body over MAX_BODY_BYTES or more than MAX_POINTS_PER_REQUEST readings' })
  @ApiUnsupportedMediaTypeResponse({ description: 'Body is not application/json' })
  @ApiUnprocessableEntityResponse({
    description:
      'The Idempotency-Key was used within IDEMPOTENCY_WINDOW_MS for another body; nothing of this request is stored',
  })
  @ApiServiceUnavailableResponse({
    description:
      'Kafka did not acknowledge, or the store is full (MONGODB_CAPACITY_DOCS) and more than ' +
      'STORE_FULL_BACKLOG_RECORDS records wait unstored in Kafka; `message` gives the reason. Retry after the ' +
      'Retry-After seconds',
    headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } },
    schema: {
      type: 'object',
      properties: {
        statusCode: { type: 'integer', example: 503 },
        error: { type: 'string', example: 'Service Unavailable' },
        message: {
          type: 'string',
          example: 'local store full: 549005 readings; set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW',
        },
      },
    },
  })
  async ingest(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<AcceptedDto> {
    const receivedAt = Date.now();
    checkIdempotencyKey(idempotencyKey);
    if (body === undefined || body === null) {
      throw new BadRequestException({
        statusCode: 400,
        message: 'body must be a JSON reading or a non-empty array of readings',
        errors: [],
      });
    }
    const ids = idOrigin(idempotencyKey);
    const result = this.intake.validate(body, receivedAt, ids);
    if (!result.ok) {
      const total = Array.isArray(body) ? body.length : 1;
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `${result.invalid} of ${total} readings are invalid; nothing was accepted`,
        ...listedErrors(result.errors),
      });
    }
    if (idempotencyKey !== undefined && (await this.idempotency.use(idempotencyKey, body)) === 'other-body') {
      throw new UnprocessableEntityException(
        'this Idempotency-Key was used for a different body; use a new key for new readings (nothing was accepted)',
      );
    }
    await this.intake.publish(result.points, receivedAt, ids);
    return { accepted: result.points.length };
  }
}
