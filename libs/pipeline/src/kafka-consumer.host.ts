import { Injectable, Logger } from '@nestjs/common';
import { Partitioners } from 'kafkajs';

import { FunnelConfig } from '@funnel/config';
import { FunnelKafkaServer, ensureTopic, kafkaClientConfig } from '@funnel/kafka';

/** Handler pattern of readings records, whatever the configured topic is called. */
export const POINTS_PATTERN = 'funnel.points-record';

/** Owns the worker's Kafka transport so that readiness, commits and backpressure can reach it. */
@Injectable()
export class KafkaConsumerHost {
  readonly server: FunnelKafkaServer;
  readonly topic: string;

  constructor(config: FunnelConfig) {
    this.topic = config.KAFKA_TOPIC;
    this.server = new FunnelKafkaServer(
      {
        client: kafkaClientConfig(config, 'worker'),
        consumer: {
          groupId: config.KAFKA_GROUP_ID,
          sessionTimeout: 10000,
          heartbeatInterval: 1000,
          // kafkajs' default (5000 ms) is how long a fetch waits on the broker for data; after the flush
          // resumes a paused consumer, the next fetch only starts once the pending one returns, which
          // stalled the worker ~4-5 s per pause/resume cycle while draining a backlog (bench: drain 11k
          // docs/s wall-clock with stalls, 57-68k docs/s without, the same as inside flushes).
          maxWaitTimeInMs: 100,
          // With the default (1 byte) every fetch returned as soon as one new record arrived: at a few
          // thousand single-reading requests a second the worker spent most of its CPU on fetch round
          // trips (worker 79 us of CPU per reading, measured). The broker now holds a fetch until this
          // much is there or maxWaitTimeInMs passed: at most ~100 ms more latency, far fewer fetches.
          minBytes: 128 * 1024,
        },
        producer: { createPartitioner: Partitioners.DefaultPartitioner },
        subscribe: { fromBeginning: true },
        run: { autoCommit: false },
        postfixId: '',
      },
      { [config.KAFKA_TOPIC]: POINTS_PATTERN },
      () => ensureTopic(config, new Logger('Consumer')),
    );
  }
}
