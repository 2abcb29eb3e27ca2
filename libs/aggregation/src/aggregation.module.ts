/** The api's read side: GET /v1/aggregates over the stored readings and rollups. */
import { Module } from '@nestjs/common';

import { StorageModule } from '@funnel/storage';

import { AggregatesController } from './aggregates.controller.js';
import { AggregationService } from './aggregation.service.js';

@Module({
  imports: [StorageModule],
  controllers: [AggregatesController],
  providers: [AggregationService],
})
export class AggregationModule {}
