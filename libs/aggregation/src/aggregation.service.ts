import { BadRequestException, Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { PointsRepository } from '@funnel/storage';

import { instantMs, type AggregatesQueryDto } from './aggregates-query.dto.js';
import type { AggregatesResponseDto } from './aggregates-response.dto.js';
import { bucketCount, parseWindow } from './window.js';

/** Windowed aggregates over stored readings, computed by MongoDB on demand. */
@Injectable()
export class AggregationService {
  constructor(
    private readonly repository: PointsRepository,
    private readonly config: FunnelConfig,
  ) {}

  async aggregate(query: AggregatesQueryDto): Promise<AggregatesResponseDto> {
    const from = instantMs(query.from);
    const to = instantMs(query.to);
    const binMs = parseWindow(query.window) as number;
    if (from >= to) {
      throw new BadRequestException(`from (${query.from}) must be before to (${query.to})`);
    }
    const buckets = bucketCount(from, to, binMs);
    if (buckets > this.config.MAX_BUCKETS) {
      throw new BadRequestException(
        `the range spans ${buckets} ${query.window} buckets, more than MAX_BUCKETS (${this.config.MAX_BUCKETS}): narrow the range or widen the window`,
      );
    }
    const rows = await this.repository.aggregateBuckets({
      sensorId: query.sensorId,
      metric: query.metric,
      from,
      to,
      binMs,
    });
    return {
      sensorId: query.sensorId,
      metric: query.metric,
      window: query.window,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      buckets: rows.map((r) => ({ ...r, start: new Date(r.start).toISOString() })),
    };
  }
}
