/** Which stored data answers which part of a query's range, and how the parts' buckets merge. */
import { MINUTE_MS, type RawBucket } from '@funnel/storage';

import { bucketStart } from './window.js';

/** A half-open range [from, to) in epoch ms. */
export interface Range {
  from: number;
  to: number;
}

/** Which stored data answers which part of [from, to). */
export interface QueryPlan {
  /** Minute-aligned middle part answered from the minute rollups, if any. */
  rollups?: Range;
  /** Parts answered from the raw readings: the partial minutes at the edges, or everything. */
  raw: Range[];
}

/**
 * Splits a query: a window of a whole number of minutes is answered from the minute rollups over the whole
 * minutes of the range, and from raw readings over the partial minutes at either end. Sub-minute windows
 * (or a range without a whole minute in it) read raw readings only.
 */
export function planQuery(from: number, to: number, binMs: number): QueryPlan {
  const start = bucketStart(from, MINUTE_MS) === from ? from : bucketStart(from, MINUTE_MS) + MINUTE_MS;
  const end = bucketStart(to, MINUTE_MS);
  if (binMs % MINUTE_MS !== 0 || start >= end) {
    return { raw: [{ from, to }] };
  }
  const raw: Range[] = [];
  if (from < start) raw.push({ from, to: start });
  if (end < to) raw.push({ from: end, to });
  return { rollups: { from: start, to: end }, raw };
}

/** count/sum/min/max of one bucket (avg derived). */
export interface PartialBucket {
  start: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg?: number;
}

/**
 * Merges buckets of the same start from several sources (rollups and raw edges), sorted by start. A bucket
 * from a single source keeps its avg if it has one; otherwise avg = sum / count.
 */
export function mergeBuckets(...sources: PartialBucket[][]): RawBucket[] {
  const byStart = new Map<number, { bucket: PartialBucket; merged: boolean }>();
  for (const source of sources) {
    for (const b of source) {
      const seen = byStart.get(b.start);
      if (!seen) {
        byStart.set(b.start, { bucket: { ...b }, merged: false });
        continue;
      }
      const m = seen.bucket;
      m.count += b.count;
      m.sum += b.sum;
      m.min = Math.min(m.min, b.min);
      m.max = Math.max(m.max, b.max);
      seen.merged = true;
    }
  }
  return [...byStart.values()]
    .sort((a, b) => a.bucket.start - b.bucket.start)
    .map(({ bucket: b, merged }) => ({
      start: b.start,
      count: b.count,
      avg: !merged && b.avg !== undefined ? b.avg : b.sum / b.count,
      min: b.min,
      max: b.max,
      sum: b.sum,
    }));
}
