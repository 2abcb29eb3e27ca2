import { DynamicModule, Module, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import type { FunnelRole } from '@funnel/config';
import { IngestionModule } from '@funnel/ingestion';
import { PipelineModule } from '@funnel/pipeline';
import { StorageModule } from '@funnel/storage';

import { HealthController, READINESS_PROBES } from './health.controller.js';
import { ConsumerProbe, MongoProbe, ProducerProbe, type ReadinessProbe } from './probes.js';

/** /health/live and /health/ready; readiness checks what the role depends on. */
@Module({})
export class HealthModule {
  static forRole(role: FunnelRole): DynamicModule {
    const probes: Type<ReadinessProbe>[] = [MongoProbe];
    const imports: DynamicModule['imports'] = [TerminusModule.forRoot({ logger: false }), StorageModule];
    if (role !== 'worker') {
      probes.push(ProducerProbe);
      imports.push(IngestionModule);
    }
    if (role !== 'api') {
      probes.push(ConsumerProbe);
      imports.push(PipelineModule);
    }
    return {
      module: HealthModule,
      imports,
      controllers: [HealthController],
      providers: [
        ...probes,
        { provide: READINESS_PROBES, inject: probes, useFactory: (...instances: ReadinessProbe[]) => instances },
      ],
    };
  }
}
