// Every kafkajs setting of the worker's consumer transport, in one place.
import type { KafkaOptions } from '@nestjs/microservices';
import { Partitioners } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

import { kafkaClientConfig } from './kafka-options.js';

/** The worker's transport options: its consumer group, fetch tuning, and offsets committed by hand. */
export function workerTransportOptions(config: FunnelConfig): Required<KafkaOptions>['options'] {
  return {
    client: kafkaClientConfig(config, 'worker'),
    consumer: {
      groupId: config.KAFKA_GROUP_ID,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
      // kafkajs' default is how long a fetch waits on the broker for data; after the flush resumes a paused
      // consumer, the next fetch only starts once the pending one returns, which stalled the worker for
      // most of that wait on every pause/resume cycle while draining a backlog (see the bench README).
      maxWaitTimeInMs: 100,
      // With the default (1 byte) every fetch returned as soon as one new record arrived: under many small
      // requests the worker spent most of its CPU on fetch round trips. The broker now holds a fetch until
      // this much is there or maxWaitTimeInMs passed: a little more latency, far fewer fetches.
      minBytes: 128 * 1024,
    },
    producer: { createPartitioner: Partitioners.DefaultPartitioner },
    subscribe: { fromBeginning: true },
    // Offsets are committed only after the readings are written (ConsumerControl.commit).
    run: { autoCommit: false },
    postfixId: '',
    // Record values reach the handler as the bytes read, so a dead letter keeps them exactly (PointsConsumer
    // decodes them as the stock parser would); keys and headers are still decoded by the parser.
    parser: { keepBinary: true },
  };
}
