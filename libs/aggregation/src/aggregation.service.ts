/** GET /v1/aggregates as the single-series special case of the one query engine. */
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';

import { AggregateEngine } from './aggregate.engine.js';
import { instantMs, type AggregatesQueryDto } from './aggregates-query.dto.js';
import type { AggregatesResponseDto, BucketDto } from './aggregates-response.dto.js';
import { DEFAULT_FNS } from './functions.js';
import { EmptyRange, TooManyBuckets } from './query-rejected.js';
import { bucketCount, parseWindow } from './window.js';

/**
 * v1's contract on the engine: one sensor and one metric (every tag set merged: groupBy none), count/avg/min/
 * max/sum in fixed windows aligned to the UTC epoch, empty buckets omitted, MAX_BUCKETS as the bucket limit.
 */
@Injectable()
export class AggregationService {
  constructor(
    private readonly engine: AggregateEngine,
    private readonly config: FunnelConfig,
  ) {}

  /** The buckets of one series over [from, to); throws a QueryRejected when the range cannot be answered. */
  async aggregate(query: AggregatesQueryDto, signal?: AbortSignal): Promise<AggregatesResponseDto> {
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
    const [series] = await this.engine.run(
      {
        selector: { metrics: [query.metric], sensorIds: [query.sensorId] },
        from,
        to,
        windowName: query.window,
        window: { kind: 'fixed', ms: binMs },
        tz: 'UTC',
        fns: DEFAULT_FNS.map((name) => ({ name })),
        groupBy: [],
        fill: 'none',
      },
      { maxPoints: this.config.MAX_BUCKETS, pointsSetting: 'MAX_BUCKETS' },
      signal,
    );
    return {
      sensorId: query.sensorId,
      metric: query.metric,
      window: query.window,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      buckets: (series?.buckets ?? []).map(
        (b) => ({ start: new Date(b.start).toISOString(), ...b.values }) as BucketDto,
      ),
    };
  }
}
