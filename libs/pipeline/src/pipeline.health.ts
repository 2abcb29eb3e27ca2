// Readiness of the worker's Kafka consumer for /health/ready: joined to its group and making progress.
import { Injectable } from '@nestjs/common';

import { ReadinessCheck, down, up, type Readiness } from '@funnel/health';

import { ConsumerLagMonitor } from './consumer-lag.monitor.js';
import { KafkaConsumerHost } from './kafka-consumer.host.js';

@Injectable()
@ReadinessCheck()
export class KafkaConsumerCheck implements ReadinessCheck {
  readonly name = 'kafkaConsumer';

  constructor(
    private readonly host: KafkaConsumerHost,
    private readonly lagMonitor: ConsumerLagMonitor,
  ) {}

  async check(): Promise<Readiness> {
    const { state, lastError } = this.host.server;
    if (state !== 'joined') {
      return down({ state, ...(lastError ? { lastError } : {}) });
    }
    // Connected is not enough: a consumer that has work waiting and makes no progress is not ready.
    const { lag, idleMs, stalled } = await this.lagMonitor.progress();
    return stalled
      ? down({ state, stalled, lag, idleMs, message: 'consumer made no progress while partitions have lag' })
      : up({ state, lag: lag ?? 'unknown' });
  }
}
