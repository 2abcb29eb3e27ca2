// The store's fullness decision: the 80 % warning line, the limit, and a batch that would not fit.
import { describe, expect, it } from '@jest/globals';

import { capacityLevel, roomLeft, storeFullReason, WARN_FRACTION } from './capacity-level.js';

describe('capacityLevel', () => {
  it('is unlimited without a capacity, however much is held (a real MongoDB)', () => {
    expect(capacityLevel(10_000_000, 0, 50_000)).toBe('unlimited');
  });

  it('is ok below 80 %, near from 80 % on, full once the next write would pass the capacity', () => {
    expect(WARN_FRACTION).toBe(0.8);
    expect(capacityLevel(799, 1000)).toBe('ok');
    expect(capacityLevel(800, 1000)).toBe('near');
    expect(capacityLevel(999, 1000)).toBe('near');
    expect(capacityLevel(1000, 1000)).toBe('full');
  });

  it('counts the next batch: a batch that would not fit is full even below the capacity', () => {
    expect(capacityLevel(900, 1000, 100)).toBe('near');
    expect(capacityLevel(901, 1000, 100)).toBe('full');
    expect(capacityLevel(100, 1000, 2000)).toBe('full');
  });
});

describe('roomLeft', () => {
  it('is what still fits, never negative, and infinite without a limit', () => {
    expect(roomLeft(300, 1000)).toBe(700);
    expect(roomLeft(1200, 1000)).toBe(0);
    expect(roomLeft(5, 0)).toBe(Infinity);
  });
});

describe('storeFullReason', () => {
  it('names the count and the two ways out', () => {
    expect(storeFullReason(549005)).toBe(
      'local store full: 549005 readings; set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW',
    );
  });
});
