import { describe, expect, it } from '@jest/globals';
import { Partitioners, type Message, type PartitionMetadata } from 'kafkajs';

import { RetryStablePartitioner } from './stable-partitioner.js';

const partitions = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 1,
    partitionErrorCode: 0,
    replicas: [1],
    isr: [1],
  }));

describe('RetryStablePartitioner', () => {
  const topic = 'readings';

  it('gives a keyless record the same partition on every attempt, as the default partitioner does not', () => {
    const stable = RetryStablePartitioner();
    const plain = Partitioners.DefaultPartitioner();
    const metadata = partitions(6);
    // Fewer records than partitions, as in most produce calls (one packed record is common).
    const messages: Message[] = Array.from({ length: 5 }, (_, i) => ({ value: `record ${i}` }));
    const first = messages.map((message) => stable({ topic, partitionMetadata: metadata, message }));
    // A retry of the send: kafkajs runs the partitioner again over the same message objects.
    const again = messages.map((message) => stable({ topic, partitionMetadata: metadata, message }));
    expect(again).toEqual(first);
    // Still round robin over the records themselves.
    expect(new Set(first).size).toBe(5);
    // The default one moves every keyless record on a retry (on by the number of records sent, here 5 of 6).
    const plainFirst = messages.map((message) => plain({ topic, partitionMetadata: metadata, message }));
    const plainAgain = messages.map((message) => plain({ topic, partitionMetadata: metadata, message }));
    expect(plainAgain.filter((p, i) => p === plainFirst[i])).toEqual([]);
  });

  it('leaves keyed records and explicit partitions as the default partitioner places them', () => {
    const stable = RetryStablePartitioner();
    const plain = Partitioners.DefaultPartitioner();
    const metadata = partitions(6);
    for (const message of [
      { key: 'sensor-1', value: 'a' },
      { key: 'k:2', value: 'b' },
      { partition: 4, value: 'c' },
    ]) {
      expect(stable({ topic, partitionMetadata: metadata, message })).toBe(
        plain({ topic, partitionMetadata: metadata, message }),
      );
    }
  });

  it('chooses again only if the partition it chose is gone from the metadata', () => {
    const stable = RetryStablePartitioner();
    const message: Message = { value: 'x' };
    const chosen = stable({ topic, partitionMetadata: partitions(6), message });
    const fewer = partitions(6).filter((p) => p.partitionId !== chosen);
    expect(stable({ topic, partitionMetadata: fewer, message })).not.toBe(chosen);
  });
});
