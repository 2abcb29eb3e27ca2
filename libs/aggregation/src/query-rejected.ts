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
