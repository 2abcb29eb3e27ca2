// The worker's Kafka transport: configured topics, manual commits, retried start, visible state.
import { setTimeout as sleep } from 'node:timers/promises';

import { ServerKafka, type KafkaOptions } from '@nestjs/microservices';
import type { Consumer, TopicPartitionOffsetAndMetadata } from 'kafkajs';

const RETRY_MS = 2000;

export type ConsumerState = 'starting' | 'joined' | 'rebalancing' | 'crashed' | 'stopped' | 'disconnected';

/**
 * The stock Kafka transport with three changes the pipeline needs:
 * - topics come from configuration and map onto fixed handler patterns (decorators cannot read config);
 * - auto-commit is off: offsets are committed by the flush, only after the readings are written;
 * - the consumer's state and pause/commit are reachable for readiness and backpressure.
 */
export class FunnelKafkaServer extends ServerKafka {
  state: ConsumerState = 'starting';
  private closing = false;
  private startCallback: () => void = () => undefined;
  private readonly groupJoinListeners: Array<() => void> = [];
  lastError?: string;
  /** Partitions per topic assigned to this consumer at its last group join. */
  assignment: Record<string, number[]> = {};

  constructor(
    options: Required<KafkaOptions>['options'],
    /** real topic name -> handler pattern */
    private readonly topicPatterns: Record<string, string>,
    /** Runs before each start attempt (e.g. creating the topic, which a subscribe needs). */
    private readonly beforeStart: () => Promise<unknown> = async () => undefined,
  ) {
    super(options);
  }

  /**
   * The stock start gives up when the broker or topic is not there yet; a worker must instead come up
   * not-ready and keep trying, so a fresh consumer is made every RETRY_MS until one joins.
   */
  override async start(callback: () => void): Promise<void> {
    this.startCallback = callback;
    while (!this.closing) {
      try {
        await this.beforeStart();
        await super.start(callback);
        return;
      } catch (error) {
        this.state = 'starting';
        this.lastError = (error as Error).message;
        this.logger.warn(`Kafka consumer could not start (${this.lastError}); retrying in ${RETRY_MS} ms`);
        await this.consumer?.disconnect().catch(() => undefined);
        await this.producer?.disconnect().catch(() => undefined);
        await sleep(RETRY_MS);
      }
    }
  }

  /** Called (synchronously) whenever the consumer joins its group with a new assignment. */
  onGroupJoin(listener: () => void): void {
    this.groupJoinListeners.push(listener);
  }

  private async recover(crashed: Consumer): Promise<void> {
    await crashed.disconnect().catch(() => undefined);
    await this.producer?.disconnect().catch(() => undefined);
    await sleep(RETRY_MS);
    await this.start(this.startCallback);
  }

  override async close(): Promise<void> {
    this.closing = true;
    await super.close();
  }

  override async bindEvents(consumer: Consumer): Promise<void> {
    await consumer.subscribe({ ...(this.options.subscribe ?? {}), topics: Object.keys(this.topicPatterns) });
    await consumer.run({ ...(this.options.run ?? {}), autoCommit: false, eachMessage: this.getMessageHandler() });
  }

  override getHandlerByPattern(pattern: string) {
    return super.getHandlerByPattern(this.topicPatterns[pattern] ?? pattern);
  }

  protected override registerConsumerEventListeners(): void {
    super.registerConsumerEventListeners();
    const consumer = this.consumer;
    if (!consumer) {
      return;
    }
    const { GROUP_JOIN, REBALANCING, CRASH, STOP, DISCONNECT } = consumer.events;
    consumer.on(GROUP_JOIN, (event) => {
      this.state = 'joined';
      this.assignment = (event.payload as { memberAssignment?: Record<string, number[]> }).memberAssignment ?? {};
      this.groupJoinListeners.forEach((listener) => listener());
    });
    consumer.on(REBALANCING, () => (this.state = 'rebalancing'));
    consumer.on(CRASH, (event) => {
      const { error, restart } = event.payload as { error?: Error; restart?: boolean };
      this.state = 'crashed';
      this.lastError = String(error?.message ?? 'unknown');
      // kafkajs restarts the consumer itself after retriable errors; after others it stays down while the
      // process lives on, so a fresh consumer is started here instead.
      if (restart === false && !this.closing) {
        this.logger.error(
          `Kafka consumer crashed and will not restart by itself (${this.lastError}); starting a new one`,
        );
        void this.recover(consumer);
      }
    });
    consumer.on(STOP, () => (this.state = 'stopped'));
    consumer.on(DISCONNECT, () => (this.state = 'disconnected'));
  }

  /** Commits the given next-offsets (last written offset + 1) for the consumer group. */
  async commit(offsets: TopicPartitionOffsetAndMetadata[]): Promise<void> {
    if (!this.consumer) {
      throw new Error('consumer is not connected');
    }
    await this.consumer.commitOffsets(offsets);
  }

  pause(topics: string[]): void {
    this.consumer?.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[]): void {
    this.consumer?.resume(topics.map((topic) => ({ topic })));
  }
}
