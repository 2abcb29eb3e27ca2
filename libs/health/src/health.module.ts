// /health/live and /health/ready, built on Terminus; the checks come from the feature modules.
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';

import { HealthController } from './health.controller.js';

/**
 * Readiness checks what the role depends on without knowing the features: each feature module lists its
 * `@ReadinessCheck()` providers, and the controller discovers them. Nest has no multi-providers; discovery
 * keeps a check beside the state it reads, with no registration module per feature.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), DiscoveryModule],
  controllers: [HealthController],
})
export class HealthModule {}
