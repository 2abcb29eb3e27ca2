// Specs of AssignmentTracker: a new assignment lets the write in flight finish, then starts over.
import { describe, expect, it, jest } from '@jest/globals';

import {
  assign,
  committedSoFar,
  expectedCommits,
  settle,
  setup,
  useWritePathHooks,
} from './testing/write-path.harness.js';

useWritePathHooks();

describe('AssignmentTracker starts over on a new assignment', () => {
  it('lets a write in flight finish and commit before it starts over', async () => {
    const t = setup({});
    t.repository.manual();
    const record = t.add(0, 2);
    const flushed = t.scheduler.flush();
    await settle();
    let done = false;
    const assigned = assign(t).then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    t.repository.gates[0].resolve();
    await Promise.all([flushed, assigned]);
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits([record]));
  });

  it('drops what is buffered (Kafka redelivers it) and resumes consumption paused for backpressure', async () => {
    const clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_MAX_POINTS: 2, BUFFER_HIGH_WATER: 4 });
    t.repository.behaviour = async () => {
      throw new Error('down');
    };
    t.feed(0, 2); // the write fails: backing off
    await settle();
    t.feed(1, 1);
    t.feed(1, 1);
    expect(t.consumer.pause).toHaveBeenCalledTimes(1);
    await assign(t);
    expect(t.buffer.size).toBe(0);
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.consumer.resume).toHaveBeenCalledTimes(1);
    expect(t.consumer.commit).not.toHaveBeenCalled();
    expect(t.fence.resets).toBe(1); // every partition is claimed anew
    expect(t.buffer.add({ ...t.added[0] })).toBe(true); // the redelivery is taken in again
  });
});
