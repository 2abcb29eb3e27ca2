import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';

import { PointsPublisher } from '@funnel/ingestion';
import { ConsumerLagMonitor, KafkaConsumerHost } from '@funnel/pipeline';
import { PointsRepository, StorageLifecycle } from '@funnel/storage';

/** One dependency a role needs before it may report ready. */
export interface ReadinessProbe {
  check(): Promise<HealthIndicatorResult>;
}

const PING_TIMEOUT_MS = 2000;

@Injectable()
export class MongoProbe implements ReadinessProbe {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly lifecycle: StorageLifecycle,
    private readonly repository: PointsRepository,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('mongodb');
    const caps = this.lifecycle.ready;
    if (!caps) {
      return indicator.down({ message: 'collection not prepared yet (server unreachable?)' });
    }
    try {
      await Promise.race([
        this.repository.ping(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS),
        ),
      ]);
      return indicator.up({ version: caps.serverVersion, timeSeries: caps.timeSeries });
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}

@Injectable()
export class ProducerProbe implements ReadinessProbe {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly publisher: PointsPublisher,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('kafkaProducer');
    return this.publisher.connected ? indicator.up() : indicator.down({ message: 'producer not connected to Kafka' });
  }
}

@Injectable()
export class ConsumerProbe implements ReadinessProbe {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly host: KafkaConsumerHost,
    private readonly lagMonitor: ConsumerLagMonitor,
  ) {}

  async check(): Promise<HealthIndicatorResult> {
    const indicator = this.health.check('kafkaConsumer');
    const { state, lastError } = this.host.server;
    if (state !== 'joined') {
      return indicator.down({ state, ...(lastError ? { lastError } : {}) });
    }
    // Connected is not enough: a consumer that has work waiting and makes no progress is not ready.
    const { lag, idleMs, stalled } = await this.lagMonitor.progress();
    return stalled
      ? indicator.down({ state, stalled, lag, idleMs, message: 'consumer made no progress while partitions have lag' })
      : indicator.up({ state, lag: lag ?? 'unknown' });
  }
}
