// Readiness of MongoDB for /health/ready: the collection is prepared and the server answers a ping.
import { Injectable } from '@nestjs/common';

import { ReadinessCheck, down, up, type Readiness } from '@funnel/health';

import { PointsRepository } from './readings/points.repository.js';
import { StorageLifecycle } from './storage.lifecycle.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
@ReadinessCheck()
export class MongoCheck implements ReadinessCheck {
  readonly name = 'mongodb';

  constructor(
    private readonly lifecycle: StorageLifecycle,
    private readonly repository: PointsRepository,
  ) {}

  async check(): Promise<Readiness> {
    const caps = this.lifecycle.ready;
    if (!caps) {
      return down({ message: 'collection not prepared yet (server unreachable?)' });
    }
    try {
      await Promise.race([
        this.repository.ping(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS),
        ),
      ]);
      return up({ version: caps.serverVersion, timeSeries: caps.timeSeries });
    } catch (error) {
      return down({ message: (error as Error).message });
    }
  }
}
