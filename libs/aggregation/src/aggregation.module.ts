/** The api's read side: GET /v1/aggregates and GET /v2/aggregates over one engine, GET /v1/series, GET /v1/points. */
import { Module } from '@nestjs/common';

import { StorageModule, TierReader } from '@funnel/storage';

import { AggregateEngine, BUCKET_STATS_SOURCE } from './aggregate.engine.js';
import { AggregatesV2Controller } from './aggregates-v2.controller.js';
import { AggregatesController } from './aggregates.controller.js';
import { AggregationService } from './aggregation.service.js';
import { PointsExportController } from './points-export.controller.js';
import { QueryCoalescer } from './query-coalescer.js';
import { QueryGate } from './query-gate.js';
import { QueryMetrics } from './query-metrics.js';
import { SeriesController } from './series.controller.js';

@Module({
  imports: [StorageModule],
  controllers: [AggregatesController, AggregatesV2Controller, SeriesController, PointsExportController],
  providers: [
    AggregationService,
    AggregateEngine,
    QueryGate,
    QueryCoalescer,
    QueryMetrics,
    // The tiers answer whole minutes, hours and days, the raw readings the rest.
    { provide: BUCKET_STATS_SOURCE, useExisting: TierReader },
  ],
})
export class AggregationModule {}
