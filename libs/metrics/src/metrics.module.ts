import { DynamicModule, Global, Module } from '@nestjs/common';

import type { FunnelRole } from '@funnel/config';

import { FunnelMetrics } from './funnel-metrics.js';
import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';

/** One registry per process, injectable everywhere, served at GET /metrics. */
@Global()
@Module({})
export class MetricsModule {
  static forRole(role: FunnelRole, version: string): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: FunnelMetrics, useValue: new FunnelMetrics(role, version) }, HttpMetrics],
      exports: [FunnelMetrics],
    };
  }
}
