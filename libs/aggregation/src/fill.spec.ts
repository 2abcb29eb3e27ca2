/** Checks what each fill mode answers for empty buckets, and the functions over a bucket's statistics. */
import { describe, expect, it } from '@jest/globals';

import { statsOf } from '@funnel/storage';

import { fillBuckets, type SeriesSlot } from './fill.js';
import { computeFn, parseFn } from './functions.js';

// Buckets at 0..5 (starts 0, 10, ..., 50): values at 10 and 40 only.
const slots: SeriesSlot[] = [0, 10, 20, 30, 40, 50].map((start) => ({
  start,
  values:
    start === 10 ? { count: 2, avg: 1, stddev: null } : start === 40 ? { count: 1, avg: 7, stddev: 3 } : undefined,
}));
const fns = ['count', 'avg', 'stddev'];
const at = (fill: Parameters<typeof fillBuckets>[2]) => fillBuckets(slots, fns, fill).map((b) => [b.start, b.values]);

describe('fillBuckets', () => {
  it('none omits empty buckets', () => {
    expect(at('none')).toEqual([
      [10, { count: 2, avg: 1, stddev: null }],
      [40, { count: 1, avg: 7, stddev: 3 }],
    ]);
  });

  it('null and zero give every bucket, count 0', () => {
    expect(at('null')[0]).toEqual([0, { count: 0, avg: null, stddev: null }]);
    expect(at('zero').map(([, v]) => v)).toEqual([
      { count: 0, avg: 0, stddev: 0 },
      { count: 2, avg: 1, stddev: null },
      { count: 0, avg: 0, stddev: 0 },
      { count: 0, avg: 0, stddev: 0 },
      { count: 1, avg: 7, stddev: 3 },
      { count: 0, avg: 0, stddev: 0 },
    ]);
  });

  it('previous repeats the last non-empty bucket, null before the first', () => {
    expect(at('previous').map(([, v]) => v)).toEqual([
      { count: 0, avg: null, stddev: null },
      { count: 2, avg: 1, stddev: null },
      { count: 0, avg: 1, stddev: null },
      { count: 0, avg: 1, stddev: null },
      { count: 1, avg: 7, stddev: 3 },
      { count: 0, avg: 7, stddev: 3 },
    ]);
  });

  it('linear interpolates by bucket start between neighbours, null without both (or where one is null)', () => {
    expect(at('linear').map(([, v]) => v)).toEqual([
      { count: 0, avg: null, stddev: null },
      { count: 2, avg: 1, stddev: null },
      { count: 0, avg: 3, stddev: null },
      { count: 0, avg: 5, stddev: null },
      { count: 1, avg: 7, stddev: 3 },
      { count: 0, avg: null, stddev: null },
    ]);
  });

  it('interpolates by start, not by position, for buckets of unequal length (a 23-hour day)', () => {
    const uneven: SeriesSlot[] = [
      { start: 0, values: { count: 1, avg: 0 } },
      { start: 24 },
      { start: 47, values: { count: 1, avg: 47 } },
    ];
    expect(fillBuckets(uneven, ['count', 'avg'], 'linear')[1]!.values).toEqual({ count: 0, avg: 24 });
  });
});

describe('functions over statistics', () => {
  const s = statsOf([
    { ts: 3, value: 4 },
    { ts: 1, value: -2 },
    { ts: 1, value: 6 },
    { ts: 3, value: 0 },
  ]);
  const value = (name: string) => computeFn(parseFn(name) as Exclude<ReturnType<typeof parseFn>, string>, s);

  it('computes each plain function', () => {
    expect(['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'spread'].map(value)).toEqual([
      4, 8, 2, -2, 6, -2, 4, 8,
    ]);
    // Sample standard deviation of -2, 0, 4, 6: mean 2, squares 16 + 4 + 4 + 16 = 40, / 3.
    expect(value('stddev')).toBeCloseTo(Math.sqrt(40 / 3), 12);
    expect(computeFn({ name: 'stddev' }, statsOf([{ ts: 1, value: 5 }]))).toBeNull();
  });

  it('parses percentiles with decimals and refuses those out of range', () => {
    expect(parseFn('p99.9')).toEqual({ name: 'p99.9', quantile: expect.closeTo(0.999, 12) });
    expect(parseFn('p100')).toEqual({ name: 'p100', quantile: 1 });
    for (const bad of ['p0', 'p101', 'p', 'p-1', 'p1e2', 'median', 'P50']) expect(typeof parseFn(bad)).toBe('string');
    expect(value('p100')).toBeCloseTo(6, 0);
  });
});
