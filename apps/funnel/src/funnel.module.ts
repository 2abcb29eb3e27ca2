import { DynamicModule, Module } from '@nestjs/common';

import { AggregationModule } from '@funnel/aggregation';
import { FunnelConfig, FunnelConfigModule } from '@funnel/config';
import { HealthModule } from '@funnel/health';
import { IngestionModule } from '@funnel/ingestion';
import { MetricsModule } from '@funnel/metrics';
import { PipelineModule } from '@funnel/pipeline';

/** A process role is a module list over the same libs: api, worker, or both. */
@Module({})
export class FunnelModule {
  static forRole(config: FunnelConfig, version: string): DynamicModule {
    const role = config.FUNNEL_ROLE;
    const api = role === 'api' || role === 'all';
    const worker = role === 'worker' || role === 'all';
    return {
      module: FunnelModule,
      imports: [
        FunnelConfigModule.forRoot(config),
        MetricsModule.forRole(role, version),
        ...(api ? [IngestionModule, AggregationModule] : []),
        ...(worker ? [PipelineModule] : []),
        HealthModule.forRole(role),
      ],
    };
  }
}
