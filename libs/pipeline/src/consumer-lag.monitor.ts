// Measures the consumer lag of this worker's partitions and whether the consumer is stalled.
import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { groupLag, kafkaClientConfig, LazyAdmin } from '@funnel/kafka';

import { isStalled } from './consumer-stall.js';
import { KafkaConsumerHost } from './kafka-consumer.host.js';
import { PipelineMetrics, type PartitionLag } from './pipeline.metrics.js';
import { ProgressClock } from './progress.clock.js';

/** A scrape and a readiness probe close together share one sample. */
const SAMPLE_TTL_MS = 1000;
const ADMIN_TIMEOUT_MS = 3000;

export interface ConsumerProgress {
  /** Uncommitted records over this worker's partitions; undefined when the broker could not be asked. */
  lag: number | undefined;
  /** Ms since the last record taken in, batch committed or assignment. */
  idleMs: number;
  stalled: boolean;
}

/**
 * Consumer lag of the partitions assigned to this worker: the group's committed offset against the
 * partition's end, asked of the broker on demand (a scrape or a readiness probe), at most once a second.
 */
@Injectable()
export class ConsumerLagMonitor implements OnModuleInit, OnApplicationShutdown {
  private readonly admin: LazyAdmin;
  private last?: { at: number; lags: Promise<PartitionLag[] | undefined> };

  constructor(
    private readonly host: KafkaConsumerHost,
    private readonly progressClock: ProgressClock,
    private readonly config: FunnelConfig,
    private readonly metrics: PipelineMetrics,
  ) {
    this.admin = new LazyAdmin(kafkaClientConfig(config, 'worker-lag'), ADMIN_TIMEOUT_MS);
  }

  onModuleInit(): void {
    this.metrics.observeLag(() => this.lags());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin.disconnect();
  }

  /** Lag per assigned partition (empty when nothing is assigned), or undefined when it could not be measured. */
  lags(): Promise<PartitionLag[] | undefined> {
    const now = Date.now();
    if (!this.last || now - this.last.at >= SAMPLE_TTL_MS) {
      this.last = { at: now, lags: this.sample() };
    }
    return this.last.lags;
  }

  /** Whether the consumer is stalled: lag above zero and no progress for CONSUMER_STALL_MS. */
  async progress(): Promise<ConsumerProgress> {
    const lags = await this.lags();
    const lag = lags?.reduce((sum, p) => sum + p.lag, 0);
    const now = Date.now();
    const { lastProgressAt } = this.progressClock;
    return {
      lag,
      idleMs: now - lastProgressAt,
      stalled: isStalled({ lag, lastProgressAt, now, stallMs: this.config.CONSUMER_STALL_MS }),
    };
  }

  private async sample(): Promise<PartitionLag[] | undefined> {
    const topic = this.host.topic;
    const assigned = this.host.server.assignment[topic] ?? [];
    if (assigned.length === 0) {
      return [];
    }
    try {
      return await this.admin.run((admin) => groupLag(admin, topic, this.config.KAFKA_GROUP_ID, assigned));
    } catch {
      return undefined;
    }
  }
}
