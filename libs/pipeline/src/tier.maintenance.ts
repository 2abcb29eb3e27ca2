// The worker's rollup upkeep: compaction of committed slices, hour and day roll-ups, and the retention sweep.
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { kafkaClientConfig, LazyAdmin } from '@funnel/kafka';
import {
  RetentionKeeper,
  StorageLifecycle,
  TierCompactor,
  type CommittedPartition,
  type HaltHook,
} from '@funnel/storage';

import { KafkaConsumerHost } from './kafka-consumer.host.js';

const ADMIN_TIMEOUT_MS = 5000;
/** How often the sweep runs where the server enforces no TTL. */
const SWEEP_EVERY_MS = 10_000;

/**
 * Runs, every COMPACTION_INTERVAL_MS (at once again while a round left work): compaction of the slices of
 * this worker's partitions below the group's committed offsets, then the roll-up of dirty hours and dirty
 * days. Every step is idempotent and a compare-and-set, so a crash anywhere, or two workers at once, count
 * nothing twice; a late reading reaches its hour and day within a few rounds.
 */
@Injectable()
export class TierMaintenance implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Tiers');
  private readonly admin: LazyAdmin;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private running?: Promise<void>;
  private lastSweep = 0;
  private lastError = '';

  constructor(
    private readonly host: KafkaConsumerHost,
    private readonly compactor: TierCompactor,
    private readonly retention: RetentionKeeper,
    private readonly storage: StorageLifecycle,
    private readonly config: FunnelConfig,
  ) {
    this.admin = new LazyAdmin(kafkaClientConfig(config, 'worker-tiers'), ADMIN_TIMEOUT_MS);
  }

  onApplicationBootstrap(): void {
    this.schedule(this.config.COMPACTION_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.admin.disconnect();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().then(
        (more) => this.schedule(more ? 0 : this.config.COMPACTION_INTERVAL_MS),
        (error: Error) => {
          // Logged once per distinct failure, so an outage does not flood the log.
          if (error.message !== this.lastError) this.logger.warn(`rollup upkeep failed (retrying): ${error.message}`);
          this.lastError = error.message;
          this.schedule(this.config.COMPACTION_INTERVAL_MS);
        },
      );
    }, ms);
  }

  /** One round; resolves true when some step hit its limit (more is waiting). */
  private async round(): Promise<boolean> {
    const caps = this.storage.ready;
    if (!caps) return false;
    const limit = this.config.COMPACTION_BATCH;
    const halt = this.haltHook();
    const started = Date.now();
    const partitions = await this.committed();
    const compacting = Date.now();
    const compacted = await this.compactor.compact(partitions, limit, halt);
    const now = Date.now();
    const hours = await this.compactor.rollUp('hour', limit, now, halt);
    const rollingDays = Date.now();
    const days = await this.compactor.rollUp('day', limit, now, halt);
    if (compacted.done + hours.done + days.done > 0)
      this.logger.debug(
        `round in ${Date.now() - started} ms: offsets ${compacting - started}, ` +
          `compaction ${now - compacting} (${compacted.done} slices), hours ${rollingDays - now} (${hours.done}), ` +
          `days ${Date.now() - rollingDays} (${days.done})`,
      );
    if (!caps.timeSeries && now - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now;
      await this.retention.sweep(now);
    }
    this.lastError = '';
    return !this.stopped && (compacted.more || hours.more || days.more);
  }

  /** This worker's partitions with the group's committed offset (those without a commit yet are skipped). */
  private async committed(): Promise<CommittedPartition[]> {
    const topic = this.host.topic;
    const assigned = this.host.server.assignment[topic] ?? [];
    if (assigned.length === 0) return [];
    const offsets = await this.admin.run((admin) =>
      admin.fetchOffsets({ groupId: this.config.KAFKA_GROUP_ID, topics: [topic] }),
    );
    const partitions = offsets.find((o) => o.topic === topic)?.partitions ?? [];
    return partitions
      .filter((p) => assigned.includes(p.partition) && Number(p.offset) >= 0)
      .map((p) => ({ topic, partition: p.partition, committed: Number(p.offset) }));
  }

  /** TIERS_HALT_AT: at that point, log and never go on (a test kills the process there). */
  private haltHook(): HaltHook | undefined {
    const at = this.config.TIERS_HALT_AT;
    if (at === 'none') return undefined;
    return async (point) => {
      if (point !== at) return;
      this.logger.warn(`halt point ${point} reached (TIERS_HALT_AT)`);
      await new Promise(() => undefined);
    };
  }
}
