// The api's metrics (acceptance, rejections, Kafka sends), registered in the process registry.
import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';

import { FAST_BUCKETS, MetricsRegistry } from '@funnel/metrics';

/** Only a role that runs the ingestion module exports these; the api code increments the fields directly. */
@Injectable()
export class IngestionMetrics {
  readonly readingsAccepted = this.registry.register(
    new Counter({
      name: 'funnel_readings_accepted_total',
      help: 'Readings acknowledged by Kafka and answered 202',
      registers: [],
    }),
  );
  readonly readingsRejected = this.registry.register(
    new Counter({
      name: 'funnel_readings_rejected_total',
      help: 'Readings not accepted, by reason (invalid_<field>, unknown_field, not_an_object, in_invalid_request, too_many, backpressure, kafka_unavailable)',
      labelNames: ['reason'] as const,
      registers: [],
    }),
  );
  readonly kafkaSendDuration = this.registry.register(
    new Histogram({
      name: 'funnel_kafka_send_duration_seconds',
      help: 'Time from a produce call to its acknowledgement (acks=all), by result; one call carries the readings of every request queued meanwhile',
      labelNames: ['result'] as const,
      buckets: FAST_BUCKETS,
      registers: [],
    }),
  );
  readonly kafkaSendFailures = this.registry.register(
    new Counter({
      name: 'funnel_kafka_send_failures_total',
      help: 'Produce calls Kafka did not acknowledge',
      registers: [],
    }),
  );
  readonly backpressureRefusals = this.registry.register(
    new Counter({
      name: 'funnel_backpressure_refusals_total',
      help: 'Requests answered 503 because MAX_INFLIGHT_POINTS readings were already awaiting the broker',
      registers: [],
    }),
  );
  readonly inFlight = this.registry.register(
    new Gauge({
      name: 'funnel_kafka_inflight_readings',
      help: 'Readings sent to Kafka and not acknowledged yet',
      registers: [],
    }),
  );

  constructor(private readonly registry: MetricsRegistry) {}
}
