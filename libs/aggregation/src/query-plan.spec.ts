/** Checks how a query range splits between rollups and raw readings, and how their buckets merge. */
import { describe, expect, it } from '@jest/globals';

import { mergeBuckets, planQuery } from './query-plan.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('planQuery', () => {
  it('answers a minute-aligned range of a whole-minute window from rollups only', () => {
    for (const bin of [MINUTE, 5 * MINUTE, HOUR, 24 * HOUR, 7 * 24 * HOUR]) {
      expect(planQuery(10 * MINUTE, 90 * MINUTE, bin)).toEqual({
        rollups: { from: 10 * MINUTE, to: 90 * MINUTE },
        raw: [],
      });
    }
  });

  it('reads the partial minutes at the edges from raw readings', () => {
    expect(planQuery(10 * MINUTE + 123, 90 * MINUTE + 7_000, HOUR)).toEqual({
      rollups: { from: 11 * MINUTE, to: 90 * MINUTE },
      raw: [
        { from: 10 * MINUTE + 123, to: 11 * MINUTE },
        { from: 90 * MINUTE, to: 90 * MINUTE + 7_000 },
      ],
    });
    expect(planQuery(10 * MINUTE, 12 * MINUTE + 1, MINUTE)).toEqual({
      rollups: { from: 10 * MINUTE, to: 12 * MINUTE },
      raw: [{ from: 12 * MINUTE, to: 12 * MINUTE + 1 }],
    });
  });

  it('reads raw readings only for sub-minute windows or a range without a whole minute', () => {
    expect(planQuery(0, HOUR, 30_000)).toEqual({ raw: [{ from: 0, to: HOUR }] });
    expect(planQuery(0, HOUR, 90_000)).toEqual({ raw: [{ from: 0, to: HOUR }] });
    expect(planQuery(MINUTE + 1, 2 * MINUTE + 5, MINUTE)).toEqual({ raw: [{ from: MINUTE + 1, to: 2 * MINUTE + 5 }] });
    expect(planQuery(MINUTE + 1, 2 * MINUTE, MINUTE)).toEqual({ raw: [{ from: MINUTE + 1, to: 2 * MINUTE }] });
  });

  it('covers [from, to) exactly: the parts are disjoint, in order, and whole minutes go to rollups', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31; // seeded LCG
    for (let i = 0; i < 2000; i++) {
      const from = Math.floor(random() * 100 * MINUTE) - 10 * MINUTE;
      const to = from + 1 + Math.floor(random() * 10 * MINUTE);
      const plan = planQuery(from, to, MINUTE);
      const parts = [...plan.raw, ...(plan.rollups ? [plan.rollups] : [])].sort((a, b) => a.from - b.from);
      expect(parts[0].from).toBe(from);
      expect(parts.at(-1)!.to).toBe(to);
      for (let k = 1; k < parts.length; k++) expect(parts[k].from).toBe(parts[k - 1].to);
      for (const r of plan.raw) expect(r.to - r.from).toBeLessThan(plan.rollups ? MINUTE : Infinity);
      if (plan.rollups) {
        expect(Math.abs(plan.rollups.from % MINUTE)).toBe(0);
        expect(Math.abs(plan.rollups.to % MINUTE)).toBe(0);
      }
    }
  });
});

describe('mergeBuckets', () => {
  it('adds counts and sums, takes min and max, derives avg, and sorts by start', () => {
    const rollups = [
      { start: 0, count: 4, sum: 10, min: 1, max: 4 },
      { start: HOUR, count: 2, sum: 3, min: 1, max: 2 },
    ];
    const edge = [{ start: 0, count: 1, sum: -5, min: -5, max: -5, avg: -5 }];
    const tail = [{ start: 2 * HOUR, count: 2, sum: 5, min: 2, max: 3, avg: 2.5 }];
    expect(mergeBuckets(rollups, tail, edge)).toEqual([
      { start: 0, count: 5, sum: 5, min: -5, max: 4, avg: 1 },
      { start: HOUR, count: 2, sum: 3, min: 1, max: 2, avg: 1.5 },
      { start: 2 * HOUR, count: 2, sum: 5, min: 2, max: 3, avg: 2.5 },
    ]);
  });

  it('is empty for no buckets', () => {
    expect(mergeBuckets()).toEqual([]);
    expect(mergeBuckets([], [])).toEqual([]);
  });
});
