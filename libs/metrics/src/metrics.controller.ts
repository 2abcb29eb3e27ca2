// Serves the process's registry at GET /metrics in Prometheus text format.
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Registry } from 'prom-client';

import { MetricsRegistry } from './metrics.registry.js';

/** GET /metrics: Prometheus text format, on the api's and the worker's HTTP server alike. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get()
  @Header('Content-Type', Registry.PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
