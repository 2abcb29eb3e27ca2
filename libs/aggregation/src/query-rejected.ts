/** The named reasons an aggregates query is refused after each of its parameters passed validation. */

/** A query whose parameters are each valid but which cannot be answered as asked (HTTP 400). */
export abstract class QueryRejected extends Error {}

/** `from` is not before `to`: the half-open range [from, to) is empty. */
export class EmptyRange extends QueryRejected {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {
    super(`from (${from}) must be before to (${to})`);
    this.name = 'EmptyRange';
  }
}

/** The range spans more buckets of the window than MAX_BUCKETS allows. */
export class TooManyBuckets extends QueryRejected {
  constructor(
    readonly buckets: number,
    readonly window: string,
    readonly maxBuckets: number,
  ) {
    super(
      `the range spans ${buckets} ${window} buckets, more than MAX_BUCKETS (${maxBuckets}): narrow the range or widen the window`,
    );
    this.name = 'TooManyBuckets';
  }
}

/**
 * More series × buckets than MAX_POINTS_PER_QUERY (or, for v1, buckets than MAX_BUCKETS). `atLeast`: counting
 * stopped past the limit, so `points` is a lower bound.
 */
export class TooManyPoints extends QueryRejected {
  constructor(
    readonly points: number,
    readonly limit: number,
    readonly setting: string,
    readonly atLeast = false,
  ) {
    super(
      `the answer would hold ${atLeast ? 'at least ' : ''}${points} series x buckets, more than ${setting} ` +
        `(${limit}): narrow the range, widen the window, or select fewer series`,
    );
    this.name = 'TooManyPoints';
  }
}

/**
 * More series (after groupBy) than MAX_SERIES_PER_QUERY. `atLeast`: counting stopped past the limit (the
 * catalog's series, before any read), so `series` is a lower bound and the message says only "more than".
 */
export class TooManySeries extends QueryRejected {
  constructor(
    readonly series: number,
    readonly limit: number,
    readonly atLeast = false,
  ) {
    super(
      `the query matches ${atLeast ? 'more than' : `${series} series, more than`} MAX_SERIES_PER_QUERY (${limit})` +
        `${atLeast ? ' series' : ''}: filter by sensorId, sensorPrefix or tag.<key>, or group coarser (groupBy)`,
    );
    this.name = 'TooManySeries';
  }
}

/** A bucket of the range would begin before the earliest instant a JavaScript Date holds. */
export class RangeOutsideDates extends QueryRejected {
  constructor() {
    super('from: the first bucket of the range would begin before the earliest instant a JavaScript Date holds');
    this.name = 'RangeOutsideDates';
  }
}

/** A query refused for now (too many at once, or it ran out of time): HTTP 503 with Retry-After. */
export class QueryUnavailable extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'QueryUnavailable';
  }
}

/** A query that ran past QUERY_TIMEOUT_MS (the run only; time queued for a slot is not counted): HTTP 503. */
export class QueryTimedOut extends QueryUnavailable {
  constructor(limitMs: number, retryAfterSeconds: number) {
    super(
      `the query took longer than QUERY_TIMEOUT_MS (${limitMs} ms): narrow the range, widen the window or select fewer series, then retry`,
      retryAfterSeconds,
    );
    this.name = 'QueryTimedOut';
  }
}
