// Readiness of the worker's store for /health/ready: down, with the reason, while the local store is full.
import { Inject, Injectable } from '@nestjs/common';

import { ReadinessCheck, down, up, type Readiness } from '@funnel/health';

import { StoreGate } from './store.gate.js';
import type { WriteRoom } from './write-room.js';

@Injectable()
@ReadinessCheck()
export class StoreCapacityCheck implements ReadinessCheck {
  readonly name = 'storeCapacity';

  constructor(@Inject(StoreGate) private readonly gate: WriteRoom) {}

  async check(): Promise<Readiness> {
    const { full } = this.gate;
    return full ? down({ message: full.reason, held: full.held }) : up();
  }
}
