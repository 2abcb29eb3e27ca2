// Specs of BatchFlusher: a batch is written, then committed; a failed one is put back in order.
import { describe, expect, it } from '@jest/globals';

import {
  committedSoFar,
  expectedCommits,
  settle,
  setup,
  sleep,
  sortCommits,
  useWritePathHooks,
} from './testing/write-path.harness.js';

useWritePathHooks();

describe('BatchFlusher writes and then commits', () => {
  it('does nothing on an empty buffer', async () => {
    const t = setup({});
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([]);
    expect(t.consumer.commit).not.toHaveBeenCalled();
  });

  it('writes every buffered reading in order and commits highest offset + 1 per partition', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 1000 });
    t.add(0, 2);
    t.add(1, 3);
    t.add(0, 2);
    t.add(2, 0); // a rejected record: no readings, but its offset must be committed
    t.add(0, 1);
    t.add(1, 3);
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([t.added.flatMap((r) => r.points)]);
    expect(t.consumer.commit).toHaveBeenCalledTimes(1);
    expect(sortCommits(t.consumer.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
    expect(t.buffer.size).toBe(0);
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.flusher.stats).toMatchObject({ flushes: 1, written: 11, failures: 0 });
  });

  it('drains the whole buffer in writes of about FLUSH_MAX_POINTS, committing after each write', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    for (let i = 0; i < 12; i++) t.add(i % 3, 1 + (i % 4));
    await t.scheduler.flush();
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(t.repository.calls.length).toBeGreaterThan(1);
    for (const call of t.repository.calls.slice(0, -1)) expect(call.length).toBeGreaterThanOrEqual(5);
    // write, written, rollups, commit, write, written, rollups, commit, ...
    const kinds = t.log.map((line) => line.split(' ')[0]).filter((kind) => kind !== 'announce' && kind !== 'reset');
    expect(kinds).toEqual(t.repository.calls.flatMap(() => ['write', 'written', 'rollups', 'commit']));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
  });

  it('commits only after the write resolved', async () => {
    const t = setup({});
    t.repository.manual();
    t.add(0, 2);
    t.add(3, 1);
    const flushed = t.scheduler.flush();
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.consumer.commit).not.toHaveBeenCalled();
    t.repository.gates[0].resolve();
    await flushed;
    expect(t.log).toEqual([
      'announce 0@0 epoch 1',
      'announce 3@0 epoch 1',
      // The readings and the rollups are written at once (the rollups after the partitions' resets).
      'write 3',
      'reset rollups 0@0',
      'reset rollups 3@0',
      'rollups 2',
      'written',
      `commit ${JSON.stringify(expectedCommits(t.added))}`,
    ]);
  });

  it('survives a failed commit after a successful write without writing the readings again', async () => {
    const t = setup({});
    t.consumer.commit.mockRejectedValueOnce(new Error('rebalance in progress'));
    t.add(0, 3);
    await expect(t.scheduler.flush()).resolves.toBeUndefined();
    expect(t.buffer.pendingRecords).toBe(0);
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.flusher.stats.written).toBe(3);
  });
});

describe('BatchFlusher write failures', () => {
  it('keeps readings that arrive during a failing write behind the failed batch', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1, FLUSH_MAX_POINTS: 2 });
    t.repository.manual();
    t.add(0, 2);
    const flushed = t.scheduler.flush();
    await settle();
    t.add(0, 2); // arrives while the first write is in flight
    t.repository.gates[0].reject(new Error('timeout'));
    await flushed;
    expect(t.buffer.size).toBe(4);
    await sleep(5); // past the 1 ms backoff
    t.repository.behaviour = async () => undefined;
    await t.scheduler.flush();
    expect(t.repository.calls.slice(1).flat()).toEqual(t.added.flatMap((r) => r.points));
  });
});
