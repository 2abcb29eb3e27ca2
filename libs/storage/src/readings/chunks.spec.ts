// Unit tests of how a flush insert is split into concurrent chunks.
import { describe, expect, it } from '@jest/globals';

import { evenChunks } from './chunks.js';

describe('evenChunks (how a flush insert is split into concurrent writes)', () => {
  it('keeps every item once and in order, in at most `streams` chunks of near-equal size ≥ minChunk', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let run = 0; run < 500; run++) {
      const length = random(50_000);
      const streams = 1 + random(12);
      const minChunk = 1 + random(3000);
      const items = Array.from({ length }, (_, i) => i);
      const chunks = evenChunks(items, streams, minChunk);
      const sizes = chunks.map((c) => c.length);
      const label = { length, streams, minChunk, sizes: sizes.slice(0, 12) };
      expect({ ...label, flat: chunks.flat().join() === items.join() }).toEqual({ ...label, flat: true });
      expect(chunks.length).toBeLessThanOrEqual(streams);
      // As many chunks as allowed by both limits: independent count of whole minChunks in the input.
      let whole = 0;
      for (let left = length; left >= minChunk; left -= minChunk) whole++;
      expect(chunks.length).toBe(Math.max(1, Math.min(streams, whole)));
      if (chunks.length > 1) expect(Math.min(...sizes)).toBeGreaterThanOrEqual(minChunk);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('splits a full default flush of 20,000 readings into 4 chunks of 5,000, and 1,500 readings into one', () => {
    expect(evenChunks(Array.from({ length: 20_000 }), 4, 1000).map((c) => c.length)).toEqual([5000, 5000, 5000, 5000]);
    expect(evenChunks(Array.from({ length: 1_500 }), 4, 1000).map((c) => c.length)).toEqual([1500]);
    expect(evenChunks([], 4, 1000)).toEqual([[]]);
  });
});
