/** The api's read side: GET /v1/aggregates and GET /v2/aggregates over one engine. */
import { Module } from '@nestjs/common';

import { RawStatsReader, StorageModule } from '@funnel/storage';

import { AggregateEngine, BUCKET_STATS_SOURCE } from './aggregate.engine.js';
import { AggregatesV2Controller } from './aggregates-v2.controller.js';
import { AggregatesController } from './aggregates.controller.js';
import { AggregationService } from './aggregation.service.js';
import { QueryGate } from './query-gate.js';

@Module({
  imports: [StorageModule],
  controllers: [AggregatesController, AggregatesV2Controller],
  providers: [
    AggregationService,
    AggregateEngine,
    QueryGate,
    // TODO(coordinator): bind to TierReader once the rollup tiers land; raw readings answer everything until then.
    { provide: BUCKET_STATS_SOURCE, useExisting: RawStatsReader },
  ],
})
export class AggregationModule {}
