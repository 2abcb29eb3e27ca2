// A consumer group's lag on a topic, asked of the broker's admin API: what was acknowledged but not yet processed.
import type { Admin } from 'kafkajs';

/** Records of one partition that the group has not committed yet. */
export interface GroupPartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * The group's committed offset against each partition's end (all partitions, or only `partitions`).
 * A partition the group never committed counts from the oldest record it still holds.
 */
export async function groupLag(
  admin: Admin,
  topic: string,
  groupId: string,
  partitions?: readonly number[],
): Promise<GroupPartitionLag[]> {
  const [ends, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ]);
  const committed = new Map(
    (groups.find((g) => g.topic === topic)?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]),
  );
  return ends
    .filter((end) => !partitions || partitions.includes(end.partition))
    .map((end) => {
      const done = committed.get(end.partition) ?? -1n;
      const from = done >= 0n ? done : BigInt(end.low);
      const lag = BigInt(end.high) - from;
      return { topic, partition: end.partition, lag: Number(lag > 0n ? lag : 0n) };
    });
}

/** Rejects when the broker does not answer within `ms`: an admin call must not hang a probe or a request. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Kafka in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
