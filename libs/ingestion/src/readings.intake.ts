/**
 * The one ingest path every format ends in: Idempotency-Key and ids, validation by the reading rules, admission,
 * publishing (acks=all) and the metrics. A format is a parser in front of it.
 */
import { createHash, randomBytes } from 'node:crypto';

import { BadRequestException, Injectable, PayloadTooLargeException } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import {
  HEADER_ID_PATTERN,
  MAX_HEADER_ID_LENGTH,
  POINT_FIELDS,
  validatePoints,
  type PointRejection,
  type WirePoint,
} from '@funnel/contracts';
import { oldestAcceptedTs } from '@funnel/storage';

import { IngestionMetrics } from './ingestion.metrics.js';
import { PointsPublisher } from './points.publisher.js';
import { StoreAdmission } from './store-admission.js';

export const IDEMPOTENCY_KEY_RULE = `must be 1-${MAX_HEADER_ID_LENGTH} printable ASCII characters`;

/** Metric label of a rejected reading, from its first problem: a few fixed values, never client text. */
function rejectionReason(problem: PointRejection): string {
  if (problem.field === '') return 'not_an_object';
  return POINT_FIELDS.has(problem.field) ? `invalid_${problem.field}` : 'unknown_field';
}

/** Random per process: with a per-request counter it makes api-made ids unique without a random draw per request. */
const PROCESS_PREFIX = randomBytes(8).toString('hex');
let requestCounter = 0;

/** Where the ids of readings sent without one come from. */
export interface IdOrigin {
  /** Prefix of the ids: `${idPrefix}${index}`. */
  idPrefix: string;
  /** True when the same request sent again gets the same ids (the worker then drops the repeats). */
  repeatable: boolean;
  /** True when the ids come from a body whose every reading carries its timestamp: a retry repeats those too. */
  exactTs?: boolean;
}

/**
 * Ids for readings sent without one: derived from the Idempotency-Key (the same key gives the same ids), or
 * from `content` when given (a body that names its readings completely, e.g. every line timestamped), else
 * unique per request (process prefix + counter). Hashed so that any key yields a short id of the allowed
 * characters. `timestamped`: every reading of `content` carries its own timestamp (so a retry repeats them).
 */
export function idOrigin(idempotencyKey: string | undefined, content?: Buffer | string, timestamped = false): IdOrigin {
  if (idempotencyKey !== undefined) {
    return {
      idPrefix: `k:${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 24)}:`,
      repeatable: true,
    };
  }
  if (content !== undefined) {
    return {
      idPrefix: `b:${createHash('sha256').update(content).digest('hex').slice(0, 24)}:`,
      repeatable: true,
      exactTs: timestamped,
    };
  }
  return { idPrefix: `r:${PROCESS_PREFIX}${(requestCounter++).toString(36)}:`, repeatable: false };
}

/** Refuses an Idempotency-Key that is not 1-MAX_HEADER_ID_LENGTH printable ASCII characters, with a 400. */
export function checkIdempotencyKey(idempotencyKey: string | undefined): void {
  if (idempotencyKey !== undefined && !HEADER_ID_PATTERN.test(idempotencyKey)) {
    throw new BadRequestException({
      statusCode: 400,
      error: 'Bad Request',
      message: `Idempotency-Key ${IDEMPOTENCY_KEY_RULE}`,
      errors: [{ index: -1, field: 'Idempotency-Key', reason: IDEMPOTENCY_KEY_RULE }],
    });
  }
}

export type IntakeValidation =
  { ok: true; points: WirePoint[] } | { ok: false; errors: PointRejection[]; invalid: number };

/** The reading with the id it would have had at its position `index`, unless it carries its own. */
function withId(item: unknown, id: string): unknown {
  const reading = item as Record<string, unknown>;
  return reading.id === undefined ? { ...reading, id } : reading;
}

@Injectable()
export class ReadingsIntake {
  constructor(
    private readonly publisher: PointsPublisher,
    private readonly config: FunnelConfig,
    private readonly metrics: IngestionMetrics,
    private readonly admission: StoreAdmission,
  ) {}

  /**
   * Validates a request's readings by the reading rules: all of them normalised, or every problem (counted in
   * the metrics, the valid readings of the request as `in_invalid_request`). 413 past MAX_POINTS_PER_REQUEST.
   */
  validate(body: unknown, receivedAt: number, ids: IdOrigin): IntakeValidation {
    const result = validatePoints(
      body,
      {
        maxPoints: this.config.MAX_POINTS_PER_REQUEST,
        maxFutureSkewMs: this.config.MAX_FUTURE_SKEW_MS,
        oldestTs: oldestAcceptedTs(this.config, receivedAt),
      },
      receivedAt,
      { idPrefix: ids.idPrefix },
    );
    if (result.ok) return result;
    if (result.tooMany) {
      this.metrics.readingsRejected.inc({ reason: 'too_many' }, result.count);
      throw new PayloadTooLargeException(
        `${result.count} readings in one request; at most ${this.config.MAX_POINTS_PER_REQUEST} (MAX_POINTS_PER_REQUEST)`,
      );
    }
    const invalid = this.countRejected(result.errors);
    const total = Array.isArray(body) ? body.length : 1;
    this.metrics.readingsRejected.inc({ reason: 'in_invalid_request' }, total - invalid);
    return { ok: false, errors: result.errors, invalid };
  }

  /**
   * Validates readings one by one in effect: the valid ones normalised (each keeping the id of its position),
   * and the first problem of each invalid one, by index. For formats that accept part of a request.
   */
  validateEach(
    items: unknown[],
    receivedAt: number,
    ids: IdOrigin,
  ): { points: WirePoint[]; refused: Map<number, PointRejection> } {
    const refused = new Map<number, PointRejection>();
    const first = this.validate(items, receivedAt, ids);
    if (first.ok) return { points: first.points, refused };
    for (const error of first.errors) {
      if (!refused.has(error.index)) refused.set(error.index, error);
    }
    const valid: unknown[] = [];
    items.forEach((item, index) => {
      if (!refused.has(index)) valid.push(withId(item, `${ids.idPrefix}${index}`));
    });
    if (valid.length === 0) return { points: [], refused };
    const second = this.validate(valid, receivedAt, ids);
    // What passed with the others passes without the refused ones (repeated ids were refused above).
    return { points: second.ok ? second.points : [], refused };
  }

  /**
   * Publishes validated readings and resolves once the broker acknowledged all of them. Refused before
   * publishing when the store is full: what is accepted must be storable once room appears.
   */
  async publish(points: WirePoint[], receivedAt: number, ids: IdOrigin): Promise<void> {
    await this.admission.admit();
    // Ids a client chose (or that a retry repeats) may recur across requests; the worker checks those.
    const foreign = points.some((p) => !p.id.startsWith(ids.idPrefix));
    const clientIds = ids.repeatable || foreign;
    // Ids from a body of timestamped readings repeat with their timestamps: the worker's check needs no lookback.
    await this.publisher.publish(points, receivedAt, clientIds, ids.exactTs === true && !foreign);
    this.metrics.readingsAccepted.inc(points.length);
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
