// The aggregation pipelines of a bucket query, over raw readings and over minute rollups (portable to the stand-in).
/** One series over [from, to) in fixed epoch-aligned buckets of binMs (epoch ms throughout). */
export interface BucketQuery {
  sensorId: string;
  metric: string;
  from: number;
  to: number;
  binMs: number;
}

/** Bucket start of a date field, with operators that behave the same on MongoDB 5-8 and the stand-in. */
function bucketOf(field: string, binMs: number): object {
  return { $subtract: [{ $toLong: field }, { $mod: [{ $toLong: field }, binMs] }] };
}

/**
 * The aggregation pipeline over raw readings behind GET /v1/aggregates: buckets by `$subtract`/`$mod`/`$toLong`,
 * which behave the same on MongoDB 5-8 and the stand-in (no `$dateTrunc`). `_id` is the bucket start.
 */
export function bucketsPipeline(q: BucketQuery): object[] {
  return [
    {
      $match: {
        'meta.sensorId': q.sensorId,
        'meta.metric': q.metric,
        ts: { $gte: new Date(q.from), $lt: new Date(q.to) },
      },
    },
    {
      $group: {
        _id: bucketOf('$ts', q.binMs),
        count: { $sum: 1 },
        avg: { $avg: '$value' },
        min: { $min: '$value' },
        max: { $max: '$value' },
        sum: { $sum: '$value' },
      },
    },
    { $sort: { _id: 1 } },
  ];
}
