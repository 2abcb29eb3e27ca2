// Owns the worker's Kafka transport, routing the readings topic to the consumer's handler.
import { Injectable, Logger } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { ConsumerControl, FunnelKafkaServer, ensureTopic, workerTransportOptions } from '@funnel/kafka';

/** Handler pattern of readings records, whatever the configured topic is called. */
export const POINTS_PATTERN = 'funnel.points-record';

/** Owns the worker's Kafka transport so that readiness, commits and backpressure can reach it. */
@Injectable()
export class KafkaConsumerHost {
  readonly server: FunnelKafkaServer;
  readonly topic: string;
  /** Pause, resume, commit and group joins of the readings topic. */
  readonly control: ConsumerControl;

  constructor(config: FunnelConfig) {
    this.topic = config.KAFKA_TOPIC;
    this.server = new FunnelKafkaServer(workerTransportOptions(config), { [config.KAFKA_TOPIC]: POINTS_PATTERN }, () =>
      ensureTopic(config, new Logger('Consumer')),
    );
    this.control = new ConsumerControl(this.server, this.topic);
  }
}
