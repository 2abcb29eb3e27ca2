// Makes the validated FunnelConfig injectable in every module.
import { DynamicModule, Global, Module } from '@nestjs/common';

import { FunnelConfig } from './funnel-config.js';

/** Makes the boot-validated FunnelConfig injectable everywhere. */
@Global()
@Module({})
export class FunnelConfigModule {
  static forRoot(config: FunnelConfig): DynamicModule {
    return {
      module: FunnelConfigModule,
      providers: [{ provide: FunnelConfig, useValue: config }],
      exports: [FunnelConfig],
    };
  }
}
