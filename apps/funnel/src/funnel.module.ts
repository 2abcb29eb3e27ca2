// The root module of a process: config, metrics and health, plus the feature modules of its role's plan.
import { DynamicModule, Module } from '@nestjs/common';

import { AuthModule } from '@funnel/auth';
import { FunnelConfig, FunnelConfigModule } from '@funnel/config';
import { HealthModule } from '@funnel/health';
import { MetricsModule } from '@funnel/metrics';

import type { RolePlan } from './roles.js';

/** A process role is a module list over the same libs (see roles.ts). */
@Module({})
export class FunnelModule {
  static forRole(config: FunnelConfig, plan: RolePlan, version: string): DynamicModule {
    return {
      module: FunnelModule,
      imports: [
        FunnelConfigModule.forRoot(config),
        MetricsModule.forRoot({ role: config.FUNNEL_ROLE, version }),
        HealthModule,
        ...plan.modules,
        AuthModule.forRoot({ tokenRoutes: plan.servesApi }),
      ],
    };
  }
}
