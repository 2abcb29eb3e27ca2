/** Answers an aggregates query from the minute rollups and the raw readings, as the query plan splits it. */
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { emptyStats, mergeInto, PointsRepository, TierReader, type BucketQuery, type Stats } from '@funnel/storage';

import { instantMs, type AggregatesQueryDto } from './aggregates-query.dto.js';
import type { AggregatesResponseDto } from './aggregates-response.dto.js';
import { mergeBuckets, planQuery, type PartialBucket } from './query-plan.js';
import { EmptyRange, TooManyBuckets } from './query-rejected.js';
import { bucketCount, bucketStart, parseWindow } from './window.js';

/**
 * Windowed aggregates of stored readings, computed by MongoDB on demand: windows of whole minutes from the
 * minute rollups the worker maintains (plus raw readings for partial minutes at the edges of the range),
 * shorter windows from the raw readings.
 */
@Injectable()
export class AggregationService {
  constructor(
    private readonly repository: PointsRepository,
    private readonly tiers: TierReader,
    private readonly config: FunnelConfig,
  ) {}

  /** The buckets of one series over [from, to); throws a QueryRejected when the range cannot be answered. */
  async aggregate(query: AggregatesQueryDto): Promise<AggregatesResponseDto> {
    const from = instantMs(query.from);
    const to = instantMs(query.to);
    const binMs = parseWindow(query.window) as number;
    if (from >= to) {
      throw new EmptyRange(query.from, query.to);
    }
    const buckets = bucketCount(from, to, binMs);
    if (buckets > this.config.MAX_BUCKETS) {
      throw new TooManyBuckets(buckets, query.window, this.config.MAX_BUCKETS);
    }
    const series = { sensorId: query.sensorId, metric: query.metric, binMs };
    const plan = planQuery(from, to, binMs);
    const parts = await Promise.all([
      ...(plan.rollups ? [this.fromTiers({ ...series, ...plan.rollups })] : []),
      ...plan.raw.map((range) => this.repository.aggregateBuckets({ ...series, ...range })),
    ]);
    return {
      sensorId: query.sensorId,
      metric: query.metric,
      window: query.window,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      buckets: mergeBuckets(...parts).map((r) => ({ ...r, start: new Date(r.start).toISOString() })),
    };
  }

  /** count/sum/min/max per bucket of a minute-aligned range, from the rollup tiers. */
  private async fromTiers(q: BucketQuery): Promise<PartialBucket[]> {
    const bounds = [q.from];
    for (let b = bucketStart(q.from, q.binMs) + q.binMs; b < q.to; b += q.binMs) bounds.push(b);
    bounds.push(q.to);
    const answered = await this.tiers.bucketStats({ metrics: [q.metric], sensorIds: [q.sensorId] }, bounds, {
      maxTimeMS: 30_000,
      maxRawReadings: Number.MAX_SAFE_INTEGER,
    });
    const merged = new Map<number, Stats>();
    for (const series of answered) {
      for (const [i, stats] of series.buckets) merged.set(i, mergeInto(merged.get(i) ?? emptyStats(), stats));
    }
    return [...merged].map(([i, s]) => ({
      start: bucketStart(bounds[i]!, q.binMs),
      count: s.n,
      sum: s.sum,
      min: s.min,
      max: s.max,
    }));
  }
}
