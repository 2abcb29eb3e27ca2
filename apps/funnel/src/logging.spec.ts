// LineBudget: the first lines of each window pass, the rest are counted in one summary when the window ends.
import { describe, expect, it } from '@jest/globals';

import { LineBudget } from './logging.js';

function budget(limit: number, intervalMs: number) {
  let now = 1_000;
  const summaries: Array<[number, number]> = [];
  const lines = new LineBudget(
    limit,
    intervalMs,
    (count, ms) => summaries.push([count, ms]),
    () => now,
  );
  return { lines, summaries, advance: (ms: number) => (now += ms) };
}

describe('LineBudget', () => {
  it('passes the first lines of a window and reports the rest once the next window starts', () => {
    const { lines, summaries, advance } = budget(2, 10_000);
    expect([lines.take(), lines.take(), lines.take(), lines.take()]).toEqual([true, true, false, false]);
    expect(summaries).toEqual([]);
    advance(10_000);
    expect(lines.take()).toBe(true);
    expect(summaries).toEqual([[2, 10_000]]);
  });

  it('reports nothing when nothing was suppressed, and the count so far on flush', () => {
    const { lines, summaries, advance } = budget(1, 10_000);
    lines.take();
    lines.flush();
    expect(summaries).toEqual([]);
    lines.take();
    advance(10_000);
    lines.take();
    lines.take();
    advance(3_000);
    lines.flush();
    expect(summaries).toEqual([
      [1, 10_000],
      [1, 3_000],
    ]);
  });
});
