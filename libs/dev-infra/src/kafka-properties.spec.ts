// server.properties of a single broker and of a cluster node: replication of internal topics, node ids, voters.
import { describe, expect, it } from '@jest/globals';

import { kafkaServerProperties, replicationProperties } from './kafka.js';

const parse = (text: string) =>
  Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );

const base = {
  host: '127.0.0.1',
  port: 9092,
  controllerPort: 9093,
  logDirs: '/tmp/k',
  numPartitions: 3,
  extraProperties: {},
};

describe('Kafka server properties', () => {
  it('single broker: node 1 votes alone, every internal topic at replication factor 1', () => {
    const props = parse(kafkaServerProperties(base));
    expect(props['node.id']).toBe('1');
    expect(props['controller.quorum.voters']).toBe('1@127.0.0.1:9093');
    for (const key of Object.keys(replicationProperties(1))) expect(props[key]).toBe('1');
  });

  it('three nodes: RF 3 and min ISR 2 for internal topics and topic defaults', () => {
    expect(replicationProperties(3)).toEqual({
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'share.coordinator.state.topic.replication.factor': '3',
      'share.coordinator.state.topic.min.isr': '2',
    });
  });

  it('two nodes cannot tolerate a loss: RF 2, min ISR 1; five nodes still use RF 3', () => {
    expect(replicationProperties(2)['offsets.topic.replication.factor']).toBe('2');
    expect(replicationProperties(2)['min.insync.replicas']).toBe('1');
    expect(replicationProperties(5)['default.replication.factor']).toBe('3');
  });

  it('a cluster node carries its own id, the shared voters list, and extra properties win', () => {
    const voters = '1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097';
    const props = parse(
      kafkaServerProperties({
        ...base,
        port: 9094,
        controllerPort: 9095,
        nodeId: 2,
        nodes: 3,
        voters,
        extraProperties: { 'replica.lag.time.max.ms': '8000' },
      }),
    );
    expect(props).toMatchObject({
      'node.id': '2',
      'controller.quorum.voters': voters,
      listeners: 'PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095',
      'min.insync.replicas': '2',
      'replica.lag.time.max.ms': '8000',
    });
  });
});
