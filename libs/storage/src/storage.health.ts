// Readiness of MongoDB for /health/ready: the collection is prepared, the server answers a ping, there is room.
import { Injectable } from '@nestjs/common';

import { ReadinessCheck, down, up, type Readiness } from '@funnel/health';

import { PointsRepository } from './readings/points.repository.js';
import { StorageLifecycle } from './storage.lifecycle.js';
import { StoreCapacity } from './store-capacity/store-capacity.js';

const PING_TIMEOUT_MS = 2000;

@Injectable()
@ReadinessCheck()
export class MongoCheck implements ReadinessCheck {
  readonly name = 'mongodb';

  constructor(
    private readonly lifecycle: StorageLifecycle,
    private readonly repository: PointsRepository,
    private readonly capacity: StoreCapacity,
  ) {}

  async check(): Promise<Readiness> {
    const caps = this.lifecycle.ready;
    if (!caps) {
      return down({ message: 'collection not prepared yet (server unreachable?)' });
    }
    // A full local store answers pings but takes no more writes: not ready, and the reason says why.
    const full = this.capacity.full;
    if (full) {
      return down({ message: full.reason, held: full.held });
    }
    try {
      await Promise.race([
        this.repository.ping(),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS),
        ),
      ]);
      return up({ version: caps.serverVersion, timeSeries: caps.timeSeries, replicaSet: this.lifecycle.replicaSet });
    } catch (error) {
      return down({ message: (error as Error).message });
    }
  }
}
