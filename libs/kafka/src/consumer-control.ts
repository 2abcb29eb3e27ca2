// Controls one topic's consumption for the pipeline: pause, resume, commit offsets, hear group joins.
import type { FunnelKafkaServer } from './funnel-kafka.server.js';

/** A topic-partition's next offset to read, as Kafka commits it. */
export interface NextOffset {
  topic: string;
  partition: number;
  offset: string;
}

/** A record's position in its topic-partition. */
export interface RecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Stops and restarts fetching (backpressure, shutdown). */
export interface ConsumptionSwitch {
  pause(): void;
  resume(): void;
}

/** Commits the consumer group's offsets. */
export interface OffsetCommitter {
  /** Commits these next offsets; rejects when the consumer is not connected or the broker refuses. */
  commit(offsets: NextOffset[]): Promise<void>;
}

/** Tells when the consumer joined its group with a (new) assignment. */
export interface GroupMembership {
  onGroupJoin(listener: () => void): void;
}

/** Per topic-partition, the offset after the highest of `records` (what committing them means). */
export function nextOffsets(records: readonly RecordPosition[]): NextOffset[] {
  const top = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    const offset = BigInt(r.offset);
    const seen = top.get(key);
    if (!seen || offset > seen.offset) {
      top.set(key, { topic: r.topic, partition: r.partition, offset });
    }
  }
  return [...top.values()].map((t) => ({ topic: t.topic, partition: t.partition, offset: (t.offset + 1n).toString() }));
}

/** The worker's consumer of one topic, seen through the three narrow interfaces the pipeline needs. */
export class ConsumerControl implements ConsumptionSwitch, OffsetCommitter, GroupMembership {
  constructor(
    private readonly server: Pick<FunnelKafkaServer, 'pause' | 'resume' | 'commit' | 'onGroupJoin'>,
    readonly topic: string,
  ) {}

  pause(): void {
    this.server.pause([this.topic]);
  }

  resume(): void {
    this.server.resume([this.topic]);
  }

  commit(offsets: NextOffset[]): Promise<void> {
    return this.server.commit(offsets);
  }

  onGroupJoin(listener: () => void): void {
    this.server.onGroupJoin(listener);
  }
}
