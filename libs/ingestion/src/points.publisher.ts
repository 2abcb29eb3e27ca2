/** Publishes validated readings to Kafka, coalescing concurrent requests into shared produce calls. */
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ClientKafka } from '@nestjs/microservices';
import type { Message, Producer } from 'kafkajs';

import { FunnelConfig } from '@funnel/config';
import { DependencyUnavailable, encodePointsRecord, type PointsRecord, type WirePoint } from '@funnel/contracts';
import { ensureTopic } from '@funnel/kafka';

import { IngestionMetrics } from './ingestion.metrics.js';

export const KAFKA_PRODUCER = Symbol('KAFKA_PRODUCER');

/** The broker did not acknowledge a publish; the request must not be answered 2xx. */
export class BrokerUnavailable extends DependencyUnavailable {
  constructor(cause: unknown) {
    super('kafka', `Kafka did not acknowledge the readings: ${(cause as Error)?.message ?? String(cause)}`, cause);
    this.name = 'BrokerUnavailable';
  }
}

/** Too many readings await the broker's ack to take more: the api sheds load instead of queueing without bound. */
export class SendQueueFull extends Error {
  constructor(readonly inFlight: number) {
    super(`send queue full: ${inFlight} readings awaiting the broker's ack (MAX_INFLIGHT_POINTS)`);
    this.name = 'SendQueueFull';
  }
}

/** The readings of one request, waiting to share a produce call (and records) with those of other requests. */
interface QueuedSend {
  points: WirePoint[];
  receivedAt: number;
  clientIds: boolean;
  /** With clientIds: the ids repeat only with the same timestamps (PointsRecord.exactTs). */
  exactTs: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Most readings one coalesced produce call carries (a single larger request still goes whole). kafkajs puts
 * all records of a partition into one record batch, and the broker refuses batches over message.max.bytes
 * (1 MiB by default): 4,000 readings of ordinary size are about 0.5 MB.
 */
const MAX_COALESCED_POINTS = 4000;
/**
 * Produce calls awaiting the broker's ack at once. One at a time leaves the api idle for a broker round
 * trip per call; a few overlap the round trips while each call still carries every request queued meanwhile.
 */
const MAX_CONCURRENT_SENDS = 2;
/** Pause between attempts to connect a new producer after one was retired while the broker is away. */
const RECONNECT_MS = 1000;

/** Publishes validated readings to Kafka and resolves only once the broker acknowledged all of them (acks=all). */
@Injectable()
export class PointsPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Publisher');
  connected = false;
  /** Readings sent and not yet acknowledged by the broker. */
  inFlight = 0;
  private readonly queue: QueuedSend[] = [];
  /** Produce calls in flight. */
  private sending = 0;
  /** Produce calls scheduled to start once KAFKA_LINGER_MS passed. */
  private starting = 0;
  /** Settles when the produce call in flight (if any) has: one call at a time (see `send`). */
  private sendTurn: Promise<void> = Promise.resolve();
  /** Producers retired after a failed call (see `send`), and the close of the last one. */
  private readonly retired = new WeakSet<Producer>();
  private retiring: Promise<void> = Promise.resolve();
  private shuttingDown = false;

  constructor(
    @Inject(KAFKA_PRODUCER) private readonly client: ClientKafka,
    private readonly config: FunnelConfig,
    private readonly metrics: IngestionMetrics,
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
    this.shuttingDown = true;
    await this.retiring;
    await this.client.close();
  }

  /** Publishes records as they are (dead-letter replay), awaiting the broker's ack. */
  async publishRaw(records: { key: string | null; value: Buffer }[]): Promise<void> {
    try {
      await this.send(records);
    } catch (error) {
      throw new BrokerUnavailable(error);
    }
  }

  /**
   * One produce call on the idempotent producer (ingestion.module.ts), the only way records reach Kafka.
   *
   * kafkajs numbers a call's records per partition before each attempt and hands the numbers back when an
   * attempt fails, and it holds its per-broker lock for one attempt only, not between retries. So:
   * - one call at a time: a call started while another one's answer is lost would take the numbers handed back,
   *   and the broker would acknowledge its records as duplicates of the lost call's without writing them;
   * - after a call failed for good the producer is retired and the next call connects a new one (a new producer
   *   id): the failed call may have been written, and its numbers reused by other records would be refused as
   *   out of order or, worse, acknowledged as its duplicates.
   */
  private async send(messagesOf: Message[] | (() => Message[])): Promise<void> {
    const previous = this.sendTurn;
    let done!: () => void;
    this.sendTurn = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous;
      await this.retiring;
      // Made once the turn came: a call that waited takes every request queued meanwhile.
      const messages = typeof messagesOf === 'function' ? messagesOf() : messagesOf;
      if (messages.length === 0) return;
      const producer = await this.client.connect();
      try {
        await producer.send({ topic: this.config.KAFKA_TOPIC, acks: -1, messages });
      } catch (error) {
        if (!this.retired.has(producer)) {
          this.retired.add(producer);
          this.logger.warn(`Kafka send failed (${(error as Error).message}): the next send uses a new producer id`);
          this.retiring = this.client.close().catch(() => undefined);
          // Connected again in the background: readiness (kafkaProducer) must not wait for the next request.
          void this.retiring.then(() => this.reconnect());
        }
        throw error;
      }
    } finally {
      done();
    }
  }

  /** Connects the producer again after a retirement, once a second until it is connected or the api stops. */
  private async reconnect(): Promise<void> {
    while (!this.shuttingDown && !this.connected) {
      try {
        await this.client.connect();
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS).unref());
      }
    }
  }

  /**
   * Publishes the readings of one request and resolves once the broker acknowledged them. Readings of
   * concurrent requests share records (see `recordsOf`) and produce calls.
   */
  async publish(points: WirePoint[], receivedAt: number, clientIds: boolean, exactTs = false): Promise<void> {
    if (this.inFlight + points.length > this.config.MAX_INFLIGHT_POINTS) {
      this.metrics.backpressureRefusals.inc();
      this.metrics.readingsRejected.inc({ reason: 'backpressure' }, points.length);
      throw new BrokerUnavailable(new SendQueueFull(this.inFlight));
    }
    this.inFlight += points.length;
    this.metrics.inFlight.inc(points.length);
    try {
      await new Promise<void>((resolve, reject) => {
        this.queue.push({ points, receivedAt, clientIds, exactTs, resolve, reject });
        if (this.sending + this.starting < MAX_CONCURRENT_SENDS) {
          // Linger (as Kafka's own producers do): requests arriving meanwhile share the call, which costs
          // kafkajs and the broker about the same whatever it carries.
          this.starting++;
          const start = () => {
            this.starting--;
            void this.sendQueued();
          };
          // 0: only the requests that arrived in this turn of the event loop join.
          if (this.config.KAFKA_LINGER_MS > 0) setTimeout(start, this.config.KAFKA_LINGER_MS);
          else setImmediate(start);
        }
      });
    } catch (error) {
      this.metrics.kafkaSendFailures.inc();
      this.metrics.readingsRejected.inc({ reason: 'kafka_unavailable' }, points.length);
      throw new BrokerUnavailable(error);
    } finally {
      this.inFlight -= points.length;
      this.metrics.inFlight.dec(points.length);
    }
  }

  /**
   * Kafka records for the queued requests of one produce call. Readings with api-made ids (unique per
   * request) from several requests are packed together into records of up to KAFKA_POINTS_PER_RECORD:
   * at one reading per request this is one record per produce call instead of one per request, for the
   * broker and for the worker. Such a record's `receivedAt` is its earliest request's, so end-to-end
   * latency is never understated. Readings whose ids a client chose keep records of their own request,
   * keyed by their first id: a retry of the same request makes the same records, lands on the same
   * partition, and one worker sees both copies in order and drops the second.
   */
  private recordsOf(batch: QueuedSend[]): Array<{ key?: string; value: Buffer }> {
    const size = this.config.KAFKA_POINTS_PER_RECORD;
    const messages: Array<{ key?: string; value: Buffer }> = [];
    let packed: WirePoint[] = [];
    let packedAt = Infinity;
    const flushPacked = () => {
      if (packed.length > 0) {
        messages.push({
          value: encodePointsRecord({ v: 1, receivedAt: packedAt, points: packed } satisfies PointsRecord),
        });
      }
      packed = [];
      packedAt = Infinity;
    };
    for (const send of batch) {
      if (send.clientIds) {
        for (let i = 0; i < send.points.length; i += size) {
          const record: PointsRecord = {
            v: 1,
            receivedAt: send.receivedAt,
            idem: true,
            ...(send.exactTs ? { exactTs: true } : {}),
            points: send.points.slice(i, i + size),
          };
          messages.push({ key: record.points[0]!.id, value: encodePointsRecord(record) });
        }
        continue;
      }
      for (const point of send.points) {
        packed.push(point);
        packedAt = Math.min(packedAt, send.receivedAt);
        if (packed.length >= size) {
          flushPacked();
        }
      }
    }
    flushPacked();
    return messages;
  }

  /**
   * Up to MAX_CONCURRENT_SENDS of these run at once; each takes every request queued meanwhile (up to
   * MAX_COALESCED_POINTS readings) into one produce call. Each request still resolves only after the
   * broker acknowledged its records, and a failed call fails every request in it (each answers 503;
   * none is acknowledged).
   */
  /** The queued requests of one produce call: the oldest, and those after it up to MAX_COALESCED_POINTS. */
  private takeBatch(): QueuedSend[] {
    let points = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || points + this.queue[n]!.points.length <= MAX_COALESCED_POINTS)) {
      points += this.queue[n]!.points.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async sendQueued(): Promise<void> {
    this.sending++;
    try {
      while (this.queue.length > 0) {
        // Taken when this call's turn comes (sends run one at a time), not before it waits.
        let batch: QueuedSend[] = [];
        let timer: ReturnType<typeof this.metrics.kafkaSendDuration.startTimer> | undefined;
        try {
          await this.send(() => {
            batch = this.takeBatch();
            if (batch.length > 0) timer = this.metrics.kafkaSendDuration.startTimer();
            return this.recordsOf(batch);
          });
          timer?.({ result: 'ok' });
          batch.forEach((b) => b.resolve());
        } catch (error) {
          timer?.({ result: 'error' });
          batch.forEach((b) => b.reject(error));
        }
      }
    } finally {
      this.sending--;
    }
  }
}
