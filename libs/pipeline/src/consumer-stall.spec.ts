// Unit tests of when a consumer counts as stalled for readiness.
import { describe, expect, it } from '@jest/globals';

import { isStalled } from './consumer-stall.js';

const STALL_MS = 60_000;
const NOW = 1_800_000_000_000;

describe('isStalled (worker readiness)', () => {
  it('is stalled with lag and no progress for exactly CONSUMER_STALL_MS or longer', () => {
    expect(isStalled({ lag: 1, lastProgressAt: NOW - STALL_MS, now: NOW, stallMs: STALL_MS })).toBe(true);
    expect(isStalled({ lag: 5000, lastProgressAt: NOW - 10 * STALL_MS, now: NOW, stallMs: STALL_MS })).toBe(true);
  });

  it('is not stalled when progress was made within CONSUMER_STALL_MS, whatever the lag', () => {
    expect(isStalled({ lag: 5000, lastProgressAt: NOW - STALL_MS + 1, now: NOW, stallMs: STALL_MS })).toBe(false);
    expect(isStalled({ lag: 5000, lastProgressAt: NOW, now: NOW, stallMs: STALL_MS })).toBe(false);
  });

  it('is not stalled without lag: an idle consumer with nothing to read is healthy', () => {
    expect(isStalled({ lag: 0, lastProgressAt: NOW - 100 * STALL_MS, now: NOW, stallMs: STALL_MS })).toBe(false);
  });

  it('is not stalled when the lag is unknown (the broker could not be asked)', () => {
    expect(isStalled({ lag: undefined, lastProgressAt: NOW - 100 * STALL_MS, now: NOW, stallMs: STALL_MS })).toBe(
      false,
    );
  });

  it('honours the configured threshold', () => {
    const input = { lag: 3, lastProgressAt: NOW - 2_000, now: NOW };
    expect(isStalled({ ...input, stallMs: 1_000 })).toBe(true);
    expect(isStalled({ ...input, stallMs: 5_000 })).toBe(false);
  });
});
