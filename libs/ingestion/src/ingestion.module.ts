// The api's ingest side as a module: controllers, the Kafka publisher, its metrics and readiness check.
import { Module } from '@nestjs/common';
import { ClientsModule, Transport } from '@nestjs/microservices';

import { FunnelConfig } from '@funnel/config';
import { KAFKA_RETRY, kafkaClientConfig, RetryStablePartitioner } from '@funnel/kafka';
import { StorageModule } from '@funnel/storage';

import { DeadLettersController } from './dead-letters.controller.js';
import { DeadLetterReplay } from './dead-letters.replay.js';
import { IdempotencyKeys } from './idempotency-keys.js';
import { ImportController } from './import.controller.js';
import { IngestController } from './ingest.controller.js';
import { KafkaProducerCheck } from './ingestion.health.js';
import { IngestionMetrics } from './ingestion.metrics.js';
import { LineProtocolController } from './line-protocol.controller.js';
import { OtlpController } from './otlp.controller.js';
import { KAFKA_PRODUCER, PointsPublisher } from './points.publisher.js';
import { ReadingsIntake } from './readings.intake.js';
import { StoreAdmission } from './store-admission.js';

/** The api's side of the pipeline: validate, publish, answer after the broker's ack. Producer only. */
@Module({
  imports: [
    StorageModule,
    ClientsModule.registerAsync([
      {
        name: KAFKA_PRODUCER,
        inject: [FunnelConfig],
        useFactory: (config: FunnelConfig) => ({
          transport: Transport.KAFKA,
          options: {
            client: kafkaClientConfig(config, 'api'),
            producer: {
              allowAutoTopicCreation: true,
              // A resend after a lost answer is written once: the broker drops a batch whose producer id,
              // partition and sequence numbers it already holds. kafkajs needs acks -1 and one request in
              // flight per connection for it, and the resend must go to the same partition (see
              // RetryStablePartitioner; PointsPublisher.send covers what kafkajs leaves open).
              idempotent: true,
              maxInFlightRequests: 1,
              createPartitioner: RetryStablePartitioner,
              // Bounded as the client's (kafkajs' idempotent default is to retry forever), so a request answers
              // 503 within seconds while the broker is away; PointsPublisher.send retires the producer then.
              retry: KAFKA_RETRY,
            },
            producerOnlyMode: true,
            send: { acks: -1, timeout: 10000 },
            postfixId: '',
          },
        }),
      },
    ]),
  ],
  controllers: [IngestController, DeadLettersController, LineProtocolController, ImportController, OtlpController],
  providers: [
    PointsPublisher,
    IngestionMetrics,
    KafkaProducerCheck,
    StoreAdmission,
    ReadingsIntake,
    IdempotencyKeys,
    DeadLetterReplay,
  ],
  exports: [PointsPublisher],
})
export class IngestionModule {}
