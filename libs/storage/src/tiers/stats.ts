// Mergeable statistics of a set of readings: what every rollup document holds, and how two of them merge exactly.
import { QuantileSketch } from './sketch.js';

/**
 * Statistics of a set of readings that merge exactly with those of any disjoint set: count, sum, min, max,
 * first and last (earliest / latest timestamp; on a tie the smaller first value, the larger last value, so the
 * result does not depend on merge order), mean and M2 for a numerically stable variance (Chan et al.), and a
 * DDSketch for quantiles.
 */
export interface Stats {
  n: number;
  sum: number;
  min: number;
  max: number;
  /** Timestamp (epoch ms) and value of the first reading. */
  ft: number;
  fv: number;
  /** Timestamp (epoch ms) and value of the last reading. */
  lt: number;
  lv: number;
  mean: number;
  /** Sum of squared differences from the mean. */
  m2: number;
  sketch: QuantileSketch;
}

export function emptyStats(): Stats {
  return {
    n: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    ft: Infinity,
    fv: 0,
    lt: -Infinity,
    lv: 0,
    mean: 0,
    m2: 0,
    sketch: QuantileSketch.empty(),
  };
}

/** Adds one reading (Welford's update for mean and M2). */
export function addReading(s: Stats, ts: number, value: number): void {
  s.n++;
  s.sum += value;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
  if (ts < s.ft || (ts === s.ft && value < s.fv)) {
    s.ft = ts;
    s.fv = value;
  }
  if (ts > s.lt || (ts === s.lt && value > s.lv)) {
    s.lt = ts;
    s.lv = value;
  }
  const delta = value - s.mean;
  s.mean += delta / s.n;
  s.m2 += delta * (value - s.mean);
  s.sketch.add(value);
}

/** Merges `b` into `a` (Chan's parallel formula for mean and M2); `b` is left as it was. */
export function mergeInto(a: Stats, b: Stats): Stats {
  if (b.n === 0) return a;
  if (a.n === 0) {
    Object.assign(a, { ...b, sketch: QuantileSketch.empty() });
    a.sketch.merge(b.sketch);
    return a;
  }
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  a.m2 = a.m2 + b.m2 + (delta * delta * a.n * b.n) / n;
  a.mean = a.mean + (delta * b.n) / n;
  a.n = n;
  a.sum += b.sum;
  if (b.min < a.min) a.min = b.min;
  if (b.max > a.max) a.max = b.max;
  if (b.ft < a.ft || (b.ft === a.ft && b.fv < a.fv)) {
    a.ft = b.ft;
    a.fv = b.fv;
  }
  if (b.lt > a.lt || (b.lt === a.lt && b.lv > a.lv)) {
    a.lt = b.lt;
    a.lv = b.lv;
  }
  a.sketch.merge(b.sketch);
  return a;
}

/** Sample variance (n − 1 in the denominator); null for fewer than two readings. */
export function sampleVariance(s: Stats): number | null {
  return s.n < 2 ? null : Math.max(0, s.m2 / (s.n - 1));
}

/** The statistics as a rollup document stores them. */
export interface StoredStats {
  n: number;
  sum: number;
  min: number;
  max: number;
  ft: Date;
  fv: number;
  lt: Date;
  lv: number;
  mean: number;
  m2: number;
  /** QuantileSketch.encode(). */
  q: Uint8Array;
}

export function toStored(s: Stats): StoredStats {
  return {
    n: s.n,
    sum: s.sum,
    min: s.min,
    max: s.max,
    ft: new Date(s.ft),
    fv: s.fv,
    lt: new Date(s.lt),
    lv: s.lv,
    mean: s.mean,
    m2: s.m2,
    q: s.sketch.encode(),
  };
}

/** Reads stored statistics back (the sketch may come as a BSON Binary or a Buffer). */
export function fromStored(d: StoredStats): Stats {
  const q = d.q as Uint8Array | { buffer: Uint8Array };
  const bytes = q instanceof Uint8Array ? q : q.buffer;
  return {
    n: Number(d.n),
    sum: Number(d.sum),
    min: Number(d.min),
    max: Number(d.max),
    ft: new Date(d.ft).getTime(),
    fv: Number(d.fv),
    lt: new Date(d.lt).getTime(),
    lv: Number(d.lv),
    mean: Number(d.mean),
    m2: Number(d.m2),
    sketch: QuantileSketch.decode(bytes),
  };
}

/** Statistics of a list of readings, in one pass. */
export function statsOf(readings: Iterable<{ ts: number; value: number }>): Stats {
  const s = emptyStats();
  for (const r of readings) addReading(s, r.ts, r.value);
  return s;
}
