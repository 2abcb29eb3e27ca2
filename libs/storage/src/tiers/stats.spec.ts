import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from '@jest/globals';

import { QuantileSketch, SKETCH_RELATIVE_ACCURACY, SPARSE_MAX_BINS } from './sketch.js';
import { emptyStats, fromStored, mergeInto, sampleVariance, statsOf, toStored, type Stats } from './stats.js';

/** A deterministic pseudo-random sequence (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readings(n: number, seed: number, spread = 1000): Array<{ ts: number; value: number }> {
  const r = random(seed);
  return Array.from({ length: n }, (_, i) => ({
    ts: 1_700_000_000_000 + Math.floor(r() * 3_600_000),
    value: i % 17 === 0 ? 0 : Math.round((r() - 0.3) * spread * 4) / 4,
  }));
}

/** The exact value at rank ⌊q·(n−1)⌋, the definition the sketch guarantees 1 % against. */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

function twoPassVariance(values: number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
}

function mergedInChunks(rs: Array<{ ts: number; value: number }>, sizes: number[]): Stats {
  const total = emptyStats();
  let at = 0;
  for (const size of sizes) {
    // Each chunk goes through its stored form, as rollup documents do.
    mergeInto(total, fromStored(toStored(statsOf(rs.slice(at, at + size)))));
    at += size;
  }
  return mergeInto(total, statsOf(rs.slice(at)));
}

describe('mergeable statistics', () => {
  const rs = readings(5000, 7);
  const values = rs.map((r) => r.value);

  it('merging chunks gives what one pass over all readings gives', () => {
    const one = statsOf(rs);
    const merged = mergedInChunks(rs, [1, 2, 997, 1000, 3, 1500]);
    expect(merged.n).toBe(5000);
    // Quarter values: every partial sum is exact in binary floating point.
    expect(merged.sum).toBe(values.reduce((a, b) => a + b, 0));
    expect(merged.min).toBe(Math.min(...values));
    expect(merged.max).toBe(Math.max(...values));
    const earliest = Math.min(...rs.map((r) => r.ts));
    const latest = Math.max(...rs.map((r) => r.ts));
    expect(merged.ft).toBe(earliest);
    expect(merged.fv).toBe(Math.min(...rs.filter((r) => r.ts === earliest).map((r) => r.value)));
    expect(merged.lt).toBe(latest);
    expect(merged.lv).toBe(Math.max(...rs.filter((r) => r.ts === latest).map((r) => r.value)));
    expect(one.ft).toBe(merged.ft);
    const exact = twoPassVariance(values);
    expect(Math.abs(sampleVariance(merged)! - exact) / exact).toBeLessThan(1e-9);
  });

  it('first and last do not depend on the merge order when timestamps tie', () => {
    const tied = [
      { ts: 10, value: 5 },
      { ts: 10, value: 3 },
      { ts: 20, value: 1 },
      { ts: 20, value: 9 },
    ];
    for (const order of [tied, [...tied].reverse()]) {
      const s = emptyStats();
      for (const r of order) mergeInto(s, statsOf([r]));
      expect([s.fv, s.lv]).toEqual([3, 9]);
    }
  });

  it('quantiles from merged, stored sketches are within 1 % of the value at the rank, negatives and zeros too', () => {
    const merged = mergedInChunks(rs, [10, 90, 900, 2000]);
    for (const q of [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1]) {
      const exact = exactQuantile(values, q);
      const estimate = merged.sketch.quantile(q);
      if (exact === 0) expect(estimate).toBe(0);
      else expect(Math.abs(estimate - exact) / Math.abs(exact)).toBeLessThanOrEqual(0.01);
    }
  });

  it('variance is null below two readings and exact for two', () => {
    expect(sampleVariance(statsOf([{ ts: 1, value: 4 }]))).toBeNull();
    expect(
      sampleVariance(
        statsOf([
          { ts: 1, value: 4 },
          { ts: 2, value: 8 },
        ]),
      ),
    ).toBe(8);
  });

  it('the stored sketch is compact and round-trips', () => {
    const sketch = QuantileSketch.empty();
    for (const v of [0, 0, -3.5, -3.5, 20.1, 20.2, 20.3, 1e9]) sketch.add(v);
    const bytes = sketch.encode();
    expect(bytes.length).toBeLessThan(30);
    const back = QuantileSketch.decode(bytes);
    expect(back.count).toBe(8);
    expect(back.encode()).toEqual(bytes);
    expect(back.quantile(0)).toBeCloseTo(-3.5, 0);
    expect(back.quantile(0.3)).toBe(0);
    expect(() => QuantileSketch.decode(bytes.subarray(0, 3))).toThrow(/end inside/);
  });

  describe('a sketch of few buckets (kept as lists) answers as the library’s dense DDSketch does', () => {
    /** The library's own sketch of the same values: the oracle for every quantile. */
    function library(vs: number[]): DDSketch {
      const dd = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
      for (const v of vs) dd.accept(v);
      return dd;
    }
    const qs = [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

    it.each([1, 2, 6, SPARSE_MAX_BINS, SPARSE_MAX_BINS + 1, 40, 400])(
      '%i values, added one by one, merged in parts and through the stored form',
      (size) => {
        const r = random(size * 31 + 5);
        const vs = Array.from({ length: size }, (_, i) =>
          i % 7 === 3 ? 0 : Math.round((r() - 0.4) * 2000 * (i % 3 === 0 ? 1000 : 1)) / 8,
        );
        const oracle = library(vs);
        const added = QuantileSketch.empty();
        for (const v of vs) added.add(v);
        // Parts of 1–5 values, each stored and read back, merged into one: as compaction and queries do.
        const merged = QuantileSketch.empty();
        for (let at = 0, step = 1; at < vs.length; at += step, step = (step % 5) + 1) {
          const part = QuantileSketch.empty();
          for (const v of vs.slice(at, at + step)) part.add(v);
          merged.merge(QuantileSketch.decode(part.encode()));
        }
        // A dense sketch merged into a sparse one and the other way round.
        const half = Math.floor(vs.length / 2);
        const denseLeft = QuantileSketch.empty();
        for (const v of [...vs.slice(0, half), ...Array.from({ length: 40 }, (_, i) => i + 1)]) denseLeft.add(v);
        const sparseRight = QuantileSketch.empty();
        for (const v of vs.slice(half)) sparseRight.add(v);
        const mixedOracle = library([
          ...vs.slice(0, half),
          ...Array.from({ length: 40 }, (_, i) => i + 1),
          ...vs.slice(half),
        ]);
        const intoSparse = QuantileSketch.decode(sparseRight.encode());
        intoSparse.merge(denseLeft);
        denseLeft.merge(sparseRight);
        for (const q of qs) {
          const expected = oracle.getValueAtQuantile(q);
          expect({ q, added: added.quantile(q), merged: merged.quantile(q) }).toEqual({
            q,
            added: expected,
            merged: expected,
          });
          const mixed = mixedOracle.getValueAtQuantile(q);
          expect({ q, intoSparse: intoSparse.quantile(q), intoDense: denseLeft.quantile(q) }).toEqual({
            q,
            intoSparse: mixed,
            intoDense: mixed,
          });
        }
        expect(merged.count).toBe(size);
        // One stored form whichever way the sketch was built.
        expect(merged.encode()).toEqual(added.encode());
        const fresh = QuantileSketch.empty();
        for (const v of vs) fresh.add(v);
        expect(QuantileSketch.decode(fresh.encode()).encode()).toEqual(added.encode());
      },
    );

    it('stays small until it holds more than SPARSE_MAX_BINS buckets', () => {
      const one = QuantileSketch.empty();
      one.add(21.5);
      expect(one.dense).toBe(false);
      const many = QuantileSketch.empty();
      // Powers of 1.5 fall in distinct 1 % buckets.
      for (let i = 0; i < SPARSE_MAX_BINS; i++) many.add(1.5 ** i);
      expect(many.dense).toBe(false);
      many.add(1.5 ** SPARSE_MAX_BINS);
      expect(many.dense).toBe(true);
    });
  });
});
