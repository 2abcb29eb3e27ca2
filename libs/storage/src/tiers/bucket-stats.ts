// What the query engine asks of stored data: mergeable statistics per series and bucket, from whichever tier holds them.
import type { Stats } from './stats.js';

/** Which series a query reads. */
export interface SeriesSelector {
  /** One or more metrics (at least one). */
  metrics: readonly string[];
  /** Exact sensor ids, if any. */
  sensorIds?: readonly string[];
  /** Sensor ids starting with this, if set. */
  sensorPrefix?: string;
  /** Only readings whose tags have exactly these values. */
  tags?: Readonly<Record<string, string>>;
}

/** A series: one sensor, one metric, one tag set. */
export interface SeriesId {
  sensorId: string;
  metric: string;
  tags: Record<string, string>;
}

/** One series' statistics per bucket index (only buckets with readings). */
export interface SeriesBuckets {
  series: SeriesId;
  buckets: Map<number, Stats>;
}

/** How a bucket-statistics read is bounded. */
export interface BucketReadLimits {
  /** Server-side time limit of each MongoDB operation (maxTimeMS). */
  maxTimeMS: number;
  /** A read that would scan more raw readings than this is refused with RawScanTooLarge. */
  maxRawReadings: number;
  /**
   * The statistics the caller will use (the count always): a source may leave the others of every bucket at
   * their empty values (emptyStats) and read less. Undefined: every statistic.
   */
  stats?: ReadonlySet<StatGroup>;
}

/**
 * Statistics that are read together: `sum` (with the count, for sum and avg), `range` (min and max), `first`
 * and `last` (time and value), `variance` (mean and M2) and `sketch` (the quantile sketch).
 */
export type StatGroup = 'sum' | 'range' | 'first' | 'last' | 'variance' | 'sketch';

/**
 * Statistics per series and bucket. `bounds` are strictly increasing epoch ms: bucket i is
 * [bounds[i], bounds[i + 1]) and only readings inside [bounds[0], bounds[last]) count.
 */
export interface BucketStatsSource {
  bucketStats(selector: SeriesSelector, bounds: readonly number[], limits: BucketReadLimits): Promise<SeriesBuckets[]>;
  /**
   * The series the selector matches that hold readings over [from, to) as far as the series catalog knows
   * (first reading before `to`, last at or after `from`), without reading any tier: a source without a catalog
   * leaves it out. Read lazily, so a caller can stop once it has seen enough.
   */
  catalogSeries?(selector: SeriesSelector, from: number, to: number, maxTimeMS: number): AsyncIterable<SeriesId>;
}

/** A raw-readings read that would scan more readings than allowed: answered with a 400 naming what to ask instead. */
export class RawScanTooLarge extends Error {
  constructor(
    readonly readings: number,
    readonly limit: number,
  ) {
    super(
      `the query would scan ${readings} raw readings (limit ${limit}): ask for a window of whole minutes ` +
        'so the rollups answer it, a shorter range, or fewer series',
    );
    this.name = 'RawScanTooLarge';
  }
}
