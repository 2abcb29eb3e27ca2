// Counts and times every HTTP response; every role serves HTTP, so every role exports these.
import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { Counter, Histogram } from 'prom-client';

import { FAST_BUCKETS, MetricsRegistry } from './metrics.registry.js';

/**
 * Counts and times every HTTP response by method, route pattern and status. The route is Fastify's
 * pattern (`/v1/points`), never the raw URL, so label values stay few; unmatched URLs share one label.
 */
@Injectable()
export class HttpMetrics implements OnModuleInit {
  readonly httpRequests = this.registry.register(
    new Counter({
      name: 'funnel_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [],
    }),
  );
  readonly httpDuration = this.registry.register(
    new Histogram({
      name: 'funnel_http_request_duration_seconds',
      help: 'HTTP request latency in seconds, by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: FAST_BUCKETS,
      registers: [],
    }),
  );

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly registry: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify?.addHook) {
      return;
    }
    fastify.addHook('onResponse', (request, reply, done) => {
      const labels = {
        method: request.method,
        route: request.routeOptions?.url ?? 'unmatched',
        status: String(reply.statusCode),
      };
      this.httpRequests.inc(labels);
      this.httpDuration.observe(labels, reply.elapsedTime / 1000);
      done();
    });
  }
}
