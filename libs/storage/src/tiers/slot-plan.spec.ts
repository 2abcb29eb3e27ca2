import { describe, expect, it } from '@jest/globals';

import { planSlots, rangesOf } from './slot-plan.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const FOREVER = { raw: -Infinity, minute: -Infinity, hour: -Infinity, day: -Infinity };

describe('planSlots', () => {
  it('takes whole days, then hours, then minutes, then raw edges, inside each bucket', () => {
    const from = 2 * D - H - 2 * M - 5_000;
    const to = 4 * D + H + M + 7_000;
    const slots = planSlots([from, to], FOREVER);
    const count = (source: string) => slots.filter((s) => s.source === source).length;
    expect([count('day'), count('hour'), count('minute'), count('raw')]).toEqual([2, 2, 3, 2]);
    // The slots tile the bucket exactly.
    const sorted = [...slots].sort((a, b) => a.from - b.from);
    expect(sorted[0]!.from).toBe(from);
    expect(sorted[sorted.length - 1]!.to).toBe(to);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.from).toBe(sorted[i - 1]!.to);
  });

  it('never lets a period cross a bucket boundary', () => {
    const bounds = [0, 90 * M, 3 * H];
    const slots = planSlots(bounds, FOREVER);
    for (const s of slots) {
      expect(s.from).toBeGreaterThanOrEqual(bounds[s.bucket]!);
      expect(s.to).toBeLessThanOrEqual(bounds[s.bucket + 1]!);
    }
    expect(slots.filter((s) => s.source === 'hour').map((s) => s.from)).toEqual([0, 2 * H]);
  });

  it('uses a finer tier where a coarser one is past retention only from where it still holds', () => {
    const slots = planSlots([0, 3 * D], { raw: -Infinity, minute: -Infinity, hour: -Infinity, day: D + 1 });
    expect(slots.filter((s) => s.source === 'day').map((s) => s.from)).toEqual([2 * D]);
    expect(slots.filter((s) => s.source === 'hour')).toHaveLength(48);
  });

  it('merges adjacent slots into ranges', () => {
    expect(rangesOf(planSlots([0, 3 * H], FOREVER))).toEqual([{ from: 0, to: 3 * H }]);
  });
});
