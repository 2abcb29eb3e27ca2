// Serves /health/live (no dependencies) and /health/ready (every readiness check the role's modules brought).
import { Controller, Get, OnModuleInit, Req } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

import { mayReadHealthDetails, ReadinessCheck } from './readiness-check.js';

@ApiTags('health')
@Controller('health')
export class HealthController implements OnModuleInit {
  private checks: ReadinessCheck[] = [];

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly discovery: DiscoveryService,
  ) {}

  /**
   * Collects the checks once every provider exists, in the order their modules were imported (the role
   * lists storage first). Asking discovery by metadata key would give them in an order of Nest's making.
   */
  onModuleInit(): void {
    this.checks = this.discovery
      .getProviders()
      .filter((wrapper) => this.discovery.getMetadataByDecorator(ReadinessCheck, wrapper) !== undefined)
      .map((wrapper) => wrapper.instance as ReadinessCheck);
  }

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers (checks no dependency)' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: every dependency this role needs answers',
    description:
      'Open to probes: up or down per dependency. Versions, lag and error texts only for an admin token (or AUTH=off).',
  })
  ready(@Req() request: unknown) {
    const detailed = mayReadHealthDetails(request);
    return this.health.check(
      this.checks.map((readiness) => async () => {
        const { up, details } = await readiness.check();
        const indicator = this.indicators.check(readiness.name);
        const shown = detailed ? details : undefined;
        return up ? indicator.up(shown) : indicator.down(shown);
      }),
    );
  }
}
