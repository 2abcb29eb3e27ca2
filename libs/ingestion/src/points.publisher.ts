import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

import { FunnelConfig } from '@funnel/config';
import { DependencyUnavailable, type PointsRecord, type WirePoint } from '@funnel/contracts';
import { ensureTopic } from '@funnel/kafka';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** The broker did not acknowledge a publish; the request must not be answered 2xx. */
export class BrokerUnavailable extends DependencyUnavailable {
  constructor(cause: unknown) {
    super('kafka', `Kafka did not acknowledge the readings: ${(cause as Error)?.message ?? String(cause)}`, cause);
    this.name = 'BrokerUnavailable';
  }
}

/** Publishes validated readings to Kafka and resolves only once the broker acknowledged all of them (acks=all). */
@Injectable()
export class PointsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Publisher');
  connected = false;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly client: ClientKafka,
    private readonly config: FunnelConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.client.status.subscribe((status) => (this.connected = status === 'connected'));
    // Not awaited: the api starts (not ready) while the broker is away; the first publish connects too.
    void ensureTopic(this.config, this.logger).then(() =>
      this.client
        .connect()
        .catch((error: Error) => this.logger.warn(`Kafka producer not connected yet: ${error.message}`)),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  /** Publishes the readings of one request in records of at most KAFKA_POINTS_PER_RECORD, in one produce call. */
  async publish(points: WirePoint[], receivedAt: number): Promise<void> {
    const size = this.config.KAFKA_POINTS_PER_RECORD;
    const messages = [];
    for (let i = 0; i < points.length; i += size) {
      const value: PointsRecord = { v: 1, receivedAt, points: points.slice(i, i + size) };
      messages.push({ value });
    }
    try {
      await lastValueFrom(this.client.emitBatch(this.config.KAFKA_TOPIC, { messages }), { defaultValue: undefined });
    } catch (error) {
      throw new BrokerUnavailable(error);
    }
  }
}
