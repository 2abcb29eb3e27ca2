// Deterministic readings and an aggregate calculation independent of Funnel's.
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** Deterministic readings and an aggregate calculation independent of Funnel's (plain JS over the raw list). */

export interface Reading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

export interface ExpectedBucket {
  start: string;
  count: number;
  sum: number;
  min: number;
  max: number;
  avg: number;
}

/** Seeded PRNG (pure-rand's xoroshiro128+) so every run sends the same readings. */
export function prng(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => uniformInt(rng, 0, 0xffffffff) / 2 ** 32;
}

/**
 * Readings for every sensor x metric, spread irregularly over `[start, start + spanMs)`, values with two
 * decimals (some negative) so sums stay exact enough to compare.
 */
export function makeReadings(opts: {
  seed: number;
  sensors: string[];
  metrics: string[];
  start: number;
  spanMs: number;
  perSeries: number;
}): Reading[] {
  const rand = prng(opts.seed);
  const out: Reading[] = [];
  for (const sensorId of opts.sensors) {
    for (const metric of opts.metrics) {
      for (let i = 0; i < opts.perSeries; i++) {
        const ts = opts.start + Math.floor(rand() * opts.spanMs);
        const value = Math.round((rand() * 200 - 50) * 100) / 100;
        out.push({ sensorId, metric, value, ts, ...(i % 3 === 0 ? { tags: { site: `site-${i % 4}` } } : {}) });
      }
    }
  }
  return out;
}

/** Buckets computed the slow, obvious way: floor division of every reading's ts, over [from, to). */
export function expectedBuckets(
  readings: Reading[],
  q: { sensorId: string; metric: string; from: number; to: number; binMs: number },
): ExpectedBucket[] {
  const groups = new Map<number, number[]>();
  for (const r of readings) {
    if (r.sensorId !== q.sensorId || r.metric !== q.metric || r.ts < q.from || r.ts >= q.to) continue;
    const start = Math.floor(r.ts / q.binMs) * q.binMs;
    groups.set(start, [...(groups.get(start) ?? []), r.value]);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, values]) => {
      const sum = values.reduce((s, v) => s + v, 0);
      return {
        start: new Date(start).toISOString(),
        count: values.length,
        sum,
        min: Math.min(...values),
        max: Math.max(...values),
        avg: sum / values.length,
      };
    });
}
