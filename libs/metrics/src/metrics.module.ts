// Makes the process's metrics registry injectable everywhere and serves it at GET /metrics.
import { DynamicModule, Global, Module } from '@nestjs/common';

import { HttpMetrics } from './http-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { MetricsRegistry } from './metrics.registry.js';

/** What `funnel_build_info` says about this process. */
export interface BuildInfo {
  role: string;
  version: string;
}

/**
 * One registry per process, global so that each feature module's metrics class can register into it
 * (a feature lists its metrics class among its providers; nothing here knows the features).
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot({ role, version }: BuildInfo): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [{ provide: MetricsRegistry, useFactory: () => new MetricsRegistry(role, version) }, HttpMetrics],
      exports: [MetricsRegistry],
    };
  }
}
