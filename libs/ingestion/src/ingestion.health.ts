// Readiness of the api's Kafka producer for /health/ready.
import { Injectable } from '@nestjs/common';

import { ReadinessCheck, down, up, type Readiness } from '@funnel/health';

import { PointsPublisher } from './points.publisher.js';

@Injectable()
@ReadinessCheck()
export class KafkaProducerCheck implements ReadinessCheck {
  readonly name = 'kafkaProducer';

  constructor(private readonly publisher: PointsPublisher) {}

  async check(): Promise<Readiness> {
    return this.publisher.connected ? up() : down({ message: 'producer not connected to Kafka' });
  }
}
