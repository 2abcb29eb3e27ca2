/** POST /v1/points: checks the Idempotency-Key and the readings, publishes them, answers after the broker's ack. */
import { createHash, randomBytes } from 'node:crypto';

import {
  BadRequestException,
  Body,
  Controller,
  Headers,
  HttpCode,
  PayloadTooLargeException,
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
import { FunnelConfig } from '@funnel/config';
import {
  HEADER_ID_PATTERN,
  MAX_HEADER_ID_LENGTH,
  MAX_LISTED_ERRORS,
  POINT_FIELDS,
  PointDto,
  listedErrors,
  validatePoints,
  type PointRejection,
} from '@funnel/contracts';

import { IdempotencyKeys } from './idempotency-keys.js';
import { AcceptedDto, RejectedDto } from './ingest-response.dto.js';
import { IngestionMetrics } from './ingestion.metrics.js';
import { PointsPublisher } from './points.publisher.js';
import { StoreAdmission } from './store-admission.js';
import { StoreFullFilter } from './store-full.filter.js';

const IDEMPOTENCY_KEY_RULE = `must be 1-${MAX_HEADER_ID_LENGTH} printable ASCII characters`;

/** Metric label of a rejected reading, from its first problem: a few fixed values, never client text. */
function rejectionReason(problem: PointRejection): string {
  if (problem.field === '') return 'not_an_object';
  return POINT_FIELDS.has(problem.field) ? `invalid_${problem.field}` : 'unknown_field';
}

/** Random per process: with a per-request counter it makes api-made ids unique without a random draw per request. */
const PROCESS_PREFIX = randomBytes(8).toString('hex');
let requestCounter = 0;

/**
 * Prefix of the ids of readings sent without one: derived from the Idempotency-Key (the same key gives
 * the same ids) or unique per request (process prefix + counter). Hashed so that any key yields a short
 * id of the allowed characters.
 */
function idPrefixFor(idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) {
    return `r:${PROCESS_PREFIX}${(requestCounter++).toString(36)}:`;
  }
  return `k:${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}:`;
}

@ApiTags('ingest')
@ApiExtraModels(PointDto)
@Controller('v1/points')
@UseFilters(StoreFullFilter)
export class IngestController {
  constructor(
    private readonly publisher: PointsPublisher,
    private readonly config: FunnelConfig,
    private readonly metrics: IngestionMetrics,
    private readonly admission: StoreAdmission,
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
          example: 'local store full: 549005 readings; set MONGODB_URI to a real MongoDB',
        },
      },
    },
  })
  async ingest(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<AcceptedDto> {
    const receivedAt = Date.now();
    if (idempotencyKey !== undefined && !HEADER_ID_PATTERN.test(idempotencyKey)) {
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `Idempotency-Key ${IDEMPOTENCY_KEY_RULE}`,
        errors: [{ index: -1, field: 'Idempotency-Key', reason: IDEMPOTENCY_KEY_RULE }],
      });
    }
    if (body === undefined || body === null) {
      throw new BadRequestException({
        statusCode: 400,
        message: 'body must be a JSON reading or a non-empty array of readings',
        errors: [],
      });
    }
    const idPrefix = idPrefixFor(idempotencyKey);
    const result = validatePoints(
      body,
      { maxPoints: this.config.MAX_POINTS_PER_REQUEST, maxFutureSkewMs: this.config.MAX_FUTURE_SKEW_MS },
      receivedAt,
      { idPrefix },
    );
    if (!result.ok) {
      if (result.tooMany) {
        this.metrics.readingsRejected.inc({ reason: 'too_many' }, result.count);
        throw new PayloadTooLargeException(
          `${result.count} readings in one request; at most ${this.config.MAX_POINTS_PER_REQUEST} (MAX_POINTS_PER_REQUEST)`,
        );
      }
      const invalid = this.countRejected(result.errors);
      const total = Array.isArray(body) ? body.length : 1;
      this.metrics.readingsRejected.inc({ reason: 'in_invalid_request' }, total - invalid);
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: `${invalid} of ${total} readings are invalid; nothing was accepted`,
        ...listedErrors(result.errors),
      });
    }
    // Ids a client chose may repeat across requests; the worker checks those against the store.
    // Refused before publishing: what is accepted from here on must be storable once room appears.
    await this.admission.admit();
    if (idempotencyKey !== undefined && (await this.idempotency.use(idempotencyKey, body)) === 'other-body') {
      throw new UnprocessableEntityException(
        'this Idempotency-Key was used for a different body; use a new key for new readings (nothing was accepted)',
      );
    }
    const clientIds = idempotencyKey !== undefined || result.points.some((p) => !p.id.startsWith(idPrefix));
    await this.publisher.publish(result.points, receivedAt, clientIds);
    this.metrics.readingsAccepted.inc(result.points.length);
    return { accepted: result.points.length };
  }

  /** Counts each invalid reading once, under the reason of its first problem; returns how many there were. */
  private countRejected(problems: PointRejection[]): number {
    const first = new Map<number, PointRejection>();
    for (const problem of problems) {
      if (problem.index >= 0 && !first.has(problem.index)) first.set(problem.index, problem);
    }
    for (const problem of first.values()) {
      this.metrics.readingsRejected.inc({ reason: rejectionReason(problem) });
    }
    return first.size;
  }
}
