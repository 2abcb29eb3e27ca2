// Specs of Backpressure: consumption pauses at the high-water mark and resumes once drained.
import { describe, expect, it, jest } from '@jest/globals';

import { TOPIC, settle, setup, useWritePathHooks } from './testing/write-path.harness.js';

useWritePathHooks();

describe('Backpressure', () => {
  it('pauses at BUFFER_HIGH_WATER and resumes once a write leaves the buffer below half of it', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 4, BUFFER_HIGH_WATER: 10 });
    t.repository.manual();
    for (let i = 0; i < 4; i++) t.feed(0, 1); // starts write #1 of 4, buffer empty again
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    for (let i = 0; i < 9; i++) t.feed(1, 1);
    expect(t.buffer.size).toBe(9);
    expect(t.consumer.pause).not.toHaveBeenCalled();
    t.feed(1, 1);
    expect(t.buffer.size).toBe(10);
    expect(t.consumer.pause).toHaveBeenCalledTimes(1);
    expect(t.consumer.pause).toHaveBeenCalledWith();
    t.feed(2, 3);
    expect(t.consumer.pause).toHaveBeenCalledTimes(1); // not again while paused

    t.repository.gates[0].resolve(); // buffer holds 13 >= 5: stay paused; write #2 takes 4
    await settle();
    expect(t.consumer.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(9);
    t.repository.gates[1].resolve(); // buffer holds 9 >= 5: stay paused; write #3 takes 4
    await settle();
    expect(t.consumer.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(5);
    t.repository.gates[2].resolve(); // buffer holds exactly half (5), not below it: stay paused
    await settle();
    expect(t.consumer.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(0);
    t.repository.gates[3].resolve(); // buffer holds 0 < 5: resume
    await settle();
    expect(t.consumer.resume).toHaveBeenCalledTimes(1);
    expect(t.consumer.resume).toHaveBeenCalledWith();

    for (let i = 0; i < 14; i++) t.feed(0, 1); // the 4th starts write #5; while it is in flight, 10 more
    expect(t.consumer.pause).toHaveBeenCalledTimes(2);
    await settle();
    expect(t.repository.gates).toHaveLength(5);
    for (let i = 4; t.repository.gates.length > i || t.buffer.pendingRecords > 0; i++) {
      await settle();
      t.repository.gates[i]?.resolve();
    }
    await t.scheduler.flush();
    expect(t.consumer.resume).toHaveBeenCalledTimes(2);
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  });

  it('pauses when failing writes keep the buffer full, and resumes once the retry drains it', async () => {
    let clock = 1_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100, FLUSH_MAX_POINTS: 4, BUFFER_HIGH_WATER: 8 });
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('down');
    };
    for (let i = 0; i < 4; i++) t.feed(0, 1); // write fails, batch put back
    await settle();
    expect(t.buffer.size).toBe(4);
    for (let i = 0; i < 4; i++) t.feed(0, 1); // backing off: nothing is written
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.consumer.pause).toHaveBeenCalledTimes(1);
    clock += 100;
    await t.scheduler.flush();
    expect(t.buffer.size).toBe(0);
    expect(t.consumer.resume).toHaveBeenCalledTimes(1);
    expect(t.log.indexOf(`pause ${TOPIC}`)).toBeLessThan(t.log.indexOf(`resume ${TOPIC}`));
  });
});

describe('Backpressure on shutdown', () => {
  it('does not resume consumption that was paused for backpressure once shutting down', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 100, BUFFER_HIGH_WATER: 4 });
    t.scheduler.onModuleInit();
    for (let i = 0; i < 4; i++) t.feed(0, 1);
    expect(t.consumer.pause).toHaveBeenCalledTimes(1);
    await t.scheduler.beforeApplicationShutdown();
    expect(t.buffer.size).toBe(0);
    expect(t.consumer.resume).not.toHaveBeenCalled();
  });
});
