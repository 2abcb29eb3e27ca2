// The worker's decisions against a bounded store: one warning at 80 %, a halt when nothing fits, resuming by itself.
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';

import { MetricsRegistry } from '@funnel/metrics';
import type { StoreCapacity } from '@funnel/storage';

import { PipelineMetrics } from './pipeline.metrics.js';
import { StoreGate } from './store.gate.js';

/** A store count the test sets by hand, with StoreCapacity's full flag. */
class FakeCapacity {
  count = 0;
  private fullAt?: number;
  constructor(readonly capacity: number) {}
  get lastHeld(): number {
    return this.count;
  }
  async held(): Promise<number> {
    return this.count;
  }
  noteWritten(n: number): void {
    this.count += n;
  }
  get full() {
    return this.fullAt === undefined ? undefined : { held: this.fullAt, reason: `full at ${this.fullAt}` };
  }
  setFull(held: number | undefined): void {
    this.fullAt = held;
  }
}

function gate(capacity: number) {
  const store = new FakeCapacity(capacity);
  const holds: boolean[] = [];
  const metrics = new PipelineMetrics(new MetricsRegistry('worker', 'test'));
  const g = new StoreGate(store as unknown as StoreCapacity, { holdForStore: (full) => holds.push(full) }, metrics);
  const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
  jest.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
  return { store, holds, metrics, g, warn };
}

describe('StoreGate', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('gives unlimited room without a capacity', async () => {
    const { g, warn } = gate(0);
    expect(await g.room()).toBe(Infinity);
    expect(warn).not.toHaveBeenCalled();
  });

  it('warns once when the store passes 80 %, not once per flush', async () => {
    const { store, g, warn } = gate(1000);
    store.count = 790;
    expect(await g.room()).toBe(210);
    expect(warn).not.toHaveBeenCalled();
    g.wrote(10);
    g.wrote(10);
    expect(await g.room()).toBe(190);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/local store 80 % full: 800 of 1000 documents/);
  });

  it('stops writing and holds consumption when nothing fits, and lets go after a batch fitted again', async () => {
    const { store, holds, metrics, g } = gate(1000);
    store.count = 995;
    expect(await g.room()).toBe(5);
    g.stopForFullStore();
    g.stopForFullStore();
    expect(g.full?.held).toBe(995);
    expect(holds).toEqual([true]);
    expect((await metrics.storeFull.get()).values[0]?.value).toBe(1);

    store.count = 400;
    expect(await g.room()).toBe(600);
    g.wrote(100);
    expect(g.full).toBeUndefined();
    expect(holds).toEqual([true, false]);
    expect((await metrics.storeFull.get()).values[0]?.value).toBe(0);
  });
});
