// The api's aggregate-query metrics (slots, queue, wait, refusals, coalescing), registered in the process registry.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';

import { FAST_BUCKETS, MetricsRegistry } from '@funnel/metrics';

/** Queue waits (seconds): the HTTP buckets, then up to QUERY_QUEUE_WAIT_MS' upper bound (10 min). */
const WAIT_BUCKETS = [...FAST_BUCKETS, 30, 60, 120, 600];

/** How a query left the queue: it got a slot, its wait ran out, or its client went away. */
export type QueueOutcome = 'admitted' | 'wait_exceeded' | 'client_gone';
/** Why a query was answered 503 by the gate. */
export type RefusalReason = 'queue_full' | 'wait_exceeded' | 'timeout';

/** What QueryGate and QueryCoalescer report; the gate sets the gauges on each change. */
@Injectable()
export class QueryMetrics {
  readonly running = this.registry.register(
    new Gauge({
      name: 'funnel_queries_running',
      help: 'Aggregate queries holding one of the MAX_CONCURRENT_QUERIES slots (a timed-out query holds it until its reads end)',
      registers: [],
    }),
  );
  readonly queued = this.registry.register(
    new Gauge({
      name: 'funnel_queries_queued',
      help: 'Aggregate queries waiting for a slot (at most MAX_QUEUED_QUERIES)',
      registers: [],
    }),
  );
  readonly queueWait = this.registry.register(
    new Histogram({
      name: 'funnel_query_queue_wait_seconds',
      help: 'Time an aggregate query waited for a slot (0 when one was free), by outcome: admitted, wait_exceeded, client_gone',
      labelNames: ['outcome'] as const,
      buckets: WAIT_BUCKETS,
      registers: [],
    }),
  );
  readonly refused = this.registry.register(
    new Counter({
      name: 'funnel_queries_refused_total',
      help: 'Aggregate queries answered 503 by the gate, by reason: queue_full, wait_exceeded, timeout',
      labelNames: ['reason'] as const,
      registers: [],
    }),
  );

  readonly coalesced = this.registry.register(
    new Counter({
      name: 'funnel_query_coalesced_total',
      help: 'Aggregate queries that joined an identical query already running (QUERY_COALESCE) and shared its answer, taking no slot',
      registers: [],
    }),
  );

  constructor(private readonly registry: MetricsRegistry) {}
}
