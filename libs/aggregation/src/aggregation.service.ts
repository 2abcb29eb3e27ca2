/** Answers an aggregates query from the minute rollups and the raw readings, as the query plan splits it. */
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { PointsRepository, RollupsRepository } from '@funnel/storage';

import { instantMs, type AggregatesQueryDto } from './aggregates-query.dto.js';
import type { AggregatesResponseDto } from './aggregates-response.dto.js';
import { mergeBuckets, planQuery } from './query-plan.js';
import { EmptyRange, TooManyBuckets } from './query-rejected.js';
import { bucketCount, parseWindow } from './window.js';

/**
 * Windowed aggregates of stored readings, computed by MongoDB on demand: windows of whole minutes from the
 * minute rollups the worker maintains (plus raw readings for partial minutes at the edges of the range),
 * shorter windows from the raw readings.
 */
@Injectable()
export class AggregationService {
  constructor(
    private readonly repository: PointsRepository,
    private readonly rollups: RollupsRepository,
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
      ...(plan.rollups ? [this.rollups.aggregateBuckets({ ...series, ...plan.rollups })] : []),
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
}
