// Specs of the flush timing arithmetic: when a flush is due.
import { describe, expect, it } from '@jest/globals';

import { flushDueAt } from './flush-timing.js';

describe('flushDueAt', () => {
  const config = { FLUSH_INTERVAL_MS: 2000, FLUSH_MAX_POINTS: 20_000 };

  it('is FLUSH_INTERVAL_MS after the oldest record was taken in when no write was made yet', () => {
    expect(flushDueAt(10_000, 500, config)).toBe(12_000);
    expect(flushDueAt(10_000, 500, config, { ms: 300, points: 0 })).toBe(12_000);
  });

  it("subtracts the last write's time, scaled up to the next batch's readings but never down", () => {
    // 8,000 readings took 400 ms: 16,000 are expected to take 800 ms, 2,000 at least the same 400 ms.
    expect(flushDueAt(10_000, 16_000, config, { ms: 400, points: 8000 })).toBe(10_000 + 2000 - 800);
    expect(flushDueAt(10_000, 2000, config, { ms: 400, points: 8000 })).toBe(10_000 + 2000 - 400);
    // The next batch holds at most FLUSH_MAX_POINTS, however much is buffered.
    expect(flushDueAt(10_000, 90_000, config, { ms: 400, points: 10_000 })).toBe(10_000 + 2000 - 800);
  });

  it('is due at once (never before the oldest record came in) when a write takes the whole interval or more', () => {
    expect(flushDueAt(10_000, 20_000, config, { ms: 5000, points: 20_000 })).toBe(10_000);
    expect(flushDueAt(10_000, 20_000, config, { ms: 2000, points: 20_000 })).toBe(10_000);
  });
});
