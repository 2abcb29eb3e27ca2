// Unit tests of the topic replication defaults, their refusals, and the shortfall check of existing topics.
import { describe, expect, it } from '@jest/globals';

import { TopicSettingsError, topicReplication, topicShortfalls } from './topic.js';

const auto = { KAFKA_REPLICATION_FACTOR: 0, KAFKA_MIN_INSYNC_REPLICAS: 0 };

describe('topicReplication', () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 3, 2],
    [5, 3, 2],
  ])('defaults on %i brokers to replication factor %i, min ISR %i', (brokers, replicationFactor, minInsyncReplicas) => {
    expect(topicReplication(auto, brokers)).toEqual({ replicationFactor, minInsyncReplicas });
  });

  it('takes explicit settings the cluster can honour', () => {
    expect(topicReplication({ KAFKA_REPLICATION_FACTOR: 2, KAFKA_MIN_INSYNC_REPLICAS: 2 }, 3)).toEqual({
      replicationFactor: 2,
      minInsyncReplicas: 2,
    });
    expect(topicReplication({ KAFKA_REPLICATION_FACTOR: 3, KAFKA_MIN_INSYNC_REPLICAS: 0 }, 4)).toEqual({
      replicationFactor: 3,
      minInsyncReplicas: 2,
    });
  });

  it('refuses a replication factor above the broker count, naming the setting and both numbers', () => {
    const refusal = () => topicReplication({ ...auto, KAFKA_REPLICATION_FACTOR: 3 }, 1);
    expect(refusal).toThrow(TopicSettingsError);
    expect(refusal).toThrow(/KAFKA_REPLICATION_FACTOR=3 needs at least 3 Kafka brokers, but the cluster has 1/);
  });

  it('refuses a min ISR above the replication factor', () => {
    expect(() => topicReplication({ KAFKA_REPLICATION_FACTOR: 1, KAFKA_MIN_INSYNC_REPLICAS: 2 }, 3)).toThrow(
      /KAFKA_MIN_INSYNC_REPLICAS=2 is above the replication factor 1/,
    );
  });
});

describe('topicShortfalls', () => {
  const wanted = { partitions: 3, replicationFactor: 3, minInsyncReplicas: 2 };

  it('is empty for a topic at or above the settings', () => {
    expect(topicShortfalls(wanted, wanted)).toEqual([]);
    expect(topicShortfalls({ partitions: 12, replicationFactor: 5, minInsyncReplicas: 3 }, wanted)).toEqual([]);
  });

  it('names every shortfall', () => {
    expect(topicShortfalls({ partitions: 1, replicationFactor: 1, minInsyncReplicas: 1 }, wanted)).toEqual([
      'partitions 1 < 3',
      'replication factor 1 < 3',
      'min.insync.replicas 1 < 2',
    ]);
  });
});
