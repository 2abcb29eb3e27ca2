// Specs of FlushScheduler: one flush at a time, early when full, backoff, interval and shutdown.
import { describe, expect, it, jest } from '@jest/globals';

import {
  TOPIC,
  committedSoFar,
  expectedCommits,
  settle,
  setup,
  sleep,
  sortCommits,
  useWritePathHooks,
} from './testing/write-path.harness.js';

useWritePathHooks();

describe('FlushScheduler runs one flush at a time', () => {
  it('never has two insertMany calls in flight, whatever calls flush() concurrently', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 3 });
    t.repository.behaviour = () => sleep(3);
    for (let i = 0; i < 10; i++) t.add(i % 2, 1);
    const calls = [t.scheduler.flush(), t.scheduler.flush(), t.scheduler.flush()];
    for (let i = 0; i < 10; i++) {
      t.feed(i % 3, 2); // afterAdd asks for flushes too
      calls.push(t.scheduler.flush());
      await sleep(1);
    }
    await Promise.all(calls);
    await t.scheduler.flush();
    expect(t.repository.maxInFlight).toBe(1);
    // every reading written exactly once, in arrival order
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('makes a flush() called during a flush wait for it', async () => {
    const t = setup({});
    t.repository.manual();
    t.add(0, 1);
    const first = t.scheduler.flush();
    let secondDone = false;
    const second = t.scheduler.flush().then(() => (secondDone = true));
    await settle();
    expect(secondDone).toBe(false);
    t.repository.gates[0].resolve();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    expect(t.repository.calls).toHaveLength(1);
  });
});

describe('FlushScheduler flushes early when full (records fed through the intake)', () => {
  it('flushes as soon as the buffer holds FLUSH_MAX_POINTS readings, not before', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    for (let i = 0; i < 4; i++) t.feed(0, 1);
    await settle();
    expect(t.repository.calls).toHaveLength(0);
    t.feed(1, 1);
    await settle();
    expect(t.repository.calls).toEqual([t.added.flatMap((r) => r.points)]);
    expect(sortCommits(t.consumer.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
  });

  it('flushes when one record alone reaches FLUSH_MAX_POINTS', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    t.feed(0, 7);
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.repository.calls[0]).toHaveLength(7);
  });
});

describe('FlushScheduler backoff after write failures', () => {
  it('puts the batch back, commits nothing, retries only after the backoff, then commits', async () => {
    let clock = 5_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 1000, FLUSH_MAX_POINTS: 1000 });
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('mongo down');
    };
    t.add(0, 2);
    t.add(1, 2);
    t.add(0, 2);
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.consumer.commit).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(6);
    expect(t.buffer.pendingRecords).toBe(3);
    expect(t.flusher.stats).toMatchObject({ failures: 1, written: 0, lastError: 'mongo down' });

    clock += 999;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1); // still backing off

    clock += 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(2);
    expect(t.repository.calls[1]).toEqual(t.repository.calls[0]); // the same readings, same order
    expect(t.consumer.commit).toHaveBeenCalledTimes(1);
    expect(sortCommits(t.consumer.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
  });

  it('doubles the backoff with each consecutive failure (capped at 30 s) and resets it after a success', async () => {
    let clock = 10_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const interval = 1000;
    const t = setup({ FLUSH_INTERVAL_MS: interval });
    let failing = true;
    t.repository.behaviour = async () => {
      if (failing) throw new Error('down');
    };
    t.add(0, 1);
    await t.scheduler.flush(); // failure 1
    let calls = 1;
    let delay = interval;
    for (let failure = 2; failure <= 8; failure++) {
      clock += delay - 1;
      await t.scheduler.flush();
      expect({ failure, calls: t.repository.calls.length }).toEqual({ failure, calls }); // not yet
      clock += 1;
      await t.scheduler.flush();
      expect({ failure, calls: t.repository.calls.length }).toEqual({ failure, calls: ++calls }); // retried now
      delay = Math.min(delay * 2, 30_000);
    }
    expect(delay).toBe(30_000); // the loop really reached the cap
    failing = false;
    clock += delay;
    await t.scheduler.flush();
    expect(t.consumer.commit).toHaveBeenCalledTimes(1);

    failing = true;
    t.add(0, 1);
    await t.scheduler.flush(); // first failure after a success
    clock += interval - 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(calls + 2);
    clock += 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(calls + 3);
  });
});

describe('FlushScheduler interval and shutdown', () => {
  it('flushes every FLUSH_INTERVAL_MS once initialised', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 20 });
    t.scheduler.onModuleInit();
    expect(t.registry.getIntervals()).toEqual(['flush']);
    t.add(0, 3); // below FLUSH_MAX_POINTS: only the interval writes it
    for (let waited = 0; t.consumer.commit.mock.calls.length === 0 && waited < 2000; waited += 10) await sleep(10);
    expect(t.repository.calls).toEqual([t.added[0].points]);
    t.add(1, 1);
    for (let waited = 0; t.consumer.commit.mock.calls.length < 2 && waited < 2000; waited += 10) await sleep(10);
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  });

  it('starts a flush early by the time the last write took, so the readings are stored by FLUSH_INTERVAL_MS', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1000 });
    const WRITE_MS = 400;
    const starts: number[] = [];
    t.repository.behaviour = async () => {
      starts.push(Date.now());
      await sleep(WRITE_MS);
    };
    t.scheduler.onModuleInit();
    const first = t.add(0, 3).receivedAt;
    for (let waited = 0; t.consumer.commit.mock.calls.length === 0 && waited < 5000; waited += 10) await sleep(10);
    // No write to go by yet: the first starts once its reading was received FLUSH_INTERVAL_MS ago.
    expect(starts[0]! - first).toBeGreaterThanOrEqual(1000);
    const second = t.add(1, 3).receivedAt;
    for (let waited = 0; t.consumer.commit.mock.calls.length < 2 && waited < 5000; waited += 10) await sleep(10);
    // The last write took >= 400 ms (same size): this one starts at >= 600 ms, well before 1000 ms.
    const lead = starts[1]! - second;
    expect({ lead, early: lead >= 550 && lead < 950 }).toEqual({ lead, early: true });
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  }, 15_000);

  it('counts the time since the api received a record: one that waited in Kafka is written sooner', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1000 });
    t.scheduler.onModuleInit();
    t.add(0, 3, { receivedAt: Date.now() - 900 });
    await sleep(300);
    expect(t.repository.calls).toHaveLength(1);
    // ...and one whose receipt time lies ahead of this clock waits from when it entered the buffer.
    t.add(1, 3, { receivedAt: Date.now() + 60_000 });
    await sleep(500);
    expect(t.repository.calls).toHaveLength(1);
    for (let waited = 0; t.repository.calls.length < 2 && waited < 3000; waited += 10) await sleep(10);
    expect(t.repository.calls).toHaveLength(2);
  }, 10_000);

  it('flushes what is buffered on shutdown, pauses consumption and removes the interval', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 60_000, FLUSH_MAX_POINTS: 3 });
    t.scheduler.onModuleInit();
    for (let i = 0; i < 7; i++) t.add(i % 2, 1);
    t.add(2, 0);
    await t.scheduler.beforeApplicationShutdown();
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.consumer.pause).toHaveBeenCalledWith();
    expect(t.consumer.resume).not.toHaveBeenCalled();
    expect(t.registry.getIntervals()).toEqual([]);
    expect(t.log[0]).toBe(`pause ${TOPIC}`); // consumption stops before the final writes
  });

  it('retries a failing write on shutdown despite the backoff', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 60_000 });
    t.scheduler.onModuleInit();
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('primary stepping down');
    };
    t.add(0, 2);
    await t.scheduler.beforeApplicationShutdown(); // waits ~0.5 s before its retry
    expect(t.repository.calls).toHaveLength(2);
    expect(t.consumer.commit).toHaveBeenCalledTimes(1);
    expect(t.buffer.pendingRecords).toBe(0);
  });
});
