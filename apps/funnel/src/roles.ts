// Decides, in this one place, what each process role runs; everything else asks its plan, never the role's name.
import type { Type } from '@nestjs/common';
import type { CustomTransportStrategy } from '@nestjs/microservices';

import { AggregationModule } from '@funnel/aggregation';
import type { FunnelRole } from '@funnel/config';
import { IngestionModule } from '@funnel/ingestion';
import { KafkaConsumerHost, PipelineModule } from '@funnel/pipeline';
import { StatusModule } from '@funnel/status';
import { StorageModule } from '@funnel/storage';

/** What a role runs. Its modules bring their own readiness checks and metrics. */
export interface RolePlan {
  /**
   * Feature modules. Storage comes first in every role: each role needs MongoDB, and /health/ready lists the
   * checks in module order.
   */
  readonly modules: Type[];
  /** Serves the REST API, so the Swagger docs and the api's heap tuning apply. */
  readonly servesApi: boolean;
  /** The Kafka consumer this role connects as a microservice, if it consumes. */
  readonly consumer?: Type<{ readonly server: CustomTransportStrategy }>;
  /** The setting holding the port its HTTP server listens on. */
  readonly port: 'PORT' | 'WORKER_PORT';
}

const API: Type[] = [IngestionModule, AggregationModule, StatusModule];
const WORKER: Type[] = [PipelineModule];

export const ROLE_PLANS: Record<FunnelRole, RolePlan> = {
  api: { modules: [StorageModule, ...API], servesApi: true, port: 'PORT' },
  worker: { modules: [StorageModule, ...WORKER], servesApi: false, consumer: KafkaConsumerHost, port: 'WORKER_PORT' },
  all: { modules: [StorageModule, ...API, ...WORKER], servesApi: true, consumer: KafkaConsumerHost, port: 'PORT' },
};
