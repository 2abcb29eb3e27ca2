import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';

import { FunnelConfig } from '@funnel/config';
import { DependencyUnavailable, type PointsRecord, type WirePoint } from '@funnel/contracts';
import { ensureTopic } from '@funnel/kafka';
import { FunnelMetrics } from '@funnel/metrics';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** The broker did not acknowledge a publish; the request must not be answered 2xx. */
export class BrokerUnavailable extends DependencyUnavailable {
  constructor(cause: unknown) {
    super('kafka', `Kafka did not acknowledge the readings: ${(cause as Error)?.message ?? String(cause)}`, cause);
    this.name = 'BrokerUnavailable';
  }
}

/** Records of one request waiting to share a produce call with those of other requests. */
interface QueuedSend {
  messages: Array<{ key?: string; value: string }>;
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Most record bytes one coalesced produce call carries. kafkajs puts all records of a partition into one
 * record batch, and the broker refuses batches over message.max.bytes (1 MiB by default).
 */
const MAX_COALESCED_BYTES = 512 * 1024;

/** Publishes validated readings to Kafka and resolves only once the broker acknowledged all of them (acks=all). */
@Injectable()
export class PointsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Publisher');
  connected = false;
  /** Readings sent and not yet acknowledged by the broker. */
  inFlight = 0;
  /** Requests refused because the send queue was full. */
  refused = 0;
  private readonly queue: QueuedSend[] = [];
  private sending = false;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly client: ClientKafka,
    private readonly config: FunnelConfig,
    private readonly metrics: FunnelMetrics,
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

  /** Publishes records as they are (dead-letter replay), awaiting the broker's ack. */
  async publishRaw(records: { key: string | null; value: string }[]): Promise<void> {
    try {
      await this.client.connect();
      await this.client.producer.send({ topic: this.config.KAFKA_TOPIC, acks: -1, messages: records });
    } catch (error) {
      throw new BrokerUnavailable(error);
    }
  }

  /** Publishes the readings of one request in records of at most KAFKA_POINTS_PER_RECORD, in one produce call. */
  async publish(points: WirePoint[], receivedAt: number, clientIds: boolean): Promise<void> {
    if (this.inFlight + points.length > this.config.MAX_INFLIGHT_POINTS) {
      this.refused++;
      this.metrics.backpressureRefusals.inc();
      this.metrics.readingsRejected.inc({ reason: 'backpressure' }, points.length);
      throw new BrokerUnavailable(
        new Error(`send queue full: ${this.inFlight} readings awaiting the broker's ack (MAX_INFLIGHT_POINTS)`),
      );
    }
    const size = this.config.KAFKA_POINTS_PER_RECORD;
    const messages: QueuedSend['messages'] = [];
    let bytes = 0;
    for (let i = 0; i < points.length; i += size) {
      const record: PointsRecord = { v: 1, receivedAt, points: points.slice(i, i + size) };
      if (clientIds) {
        record.idem = true;
      }
      const value = JSON.stringify(record);
      bytes += value.length;
      // A retry of the same request makes the same records: keyed by their first id, it lands on the
      // same partition, so one worker sees both copies in order and drops the second.
      messages.push(clientIds ? { key: record.points[0]!.id, value } : { value });
    }
    this.inFlight += points.length;
    this.metrics.inFlight.inc(points.length);
    const timer = this.metrics.kafkaSendDuration.startTimer();
    try {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ messages, bytes, resolve, reject });
        if (!this.sending) {
          void this.sendQueued();
        }
      });
      timer({ result: 'ok' });
    } catch (error) {
      timer({ result: 'error' });
      this.metrics.kafkaSendFailures.inc();
      this.metrics.readingsRejected.inc({ reason: 'kafka_unavailable' }, points.length);
      throw new BrokerUnavailable(error);
    } finally {
      this.inFlight -= points.length;
      this.metrics.inFlight.dec(points.length);
    }
  }

  /**
   * One produce call at a time, carrying the records of every request queued while the previous call
   * awaited its ack: concurrent requests share a broker round trip (and kafkajs' per-call cost) instead of
   * each paying its own. Each request still resolves only after the broker acknowledged its records, and
   * a failed call fails every request in it (each answers 503; none is acknowledged).
   */
  private async sendQueued(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        let bytes = 0;
        let n = 0;
        while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= MAX_COALESCED_BYTES)) {
          bytes += this.queue[n]!.bytes;
          n++;
        }
        const batch = this.queue.splice(0, n);
        try {
          await this.client.connect();
          await this.client.producer.send({
            topic: this.config.KAFKA_TOPIC,
            acks: -1,
            messages: batch.flatMap((b) => b.messages),
          });
          batch.forEach((b) => b.resolve());
        } catch (error) {
          batch.forEach((b) => b.reject(error));
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
