/** Latency percentiles in ms; null when there were no samples. */
export interface Percentiles {
  count: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

/**
 * A growing list of measurements (ms) with exact percentiles: sorting a few million doubles is cheap. Adding
 * is a store into a preallocated Float64Array (doubled when full), cheap enough to call once per request.
 */
export class Samples {
  private values: Float64Array;
  private size = 0;

  constructor(capacity = 1024) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  get count(): number {
    return this.size;
  }

  add(value: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = value;
  }

  /** Nearest-rank percentiles, rounded to the microsecond. */
  percentiles(): Percentiles {
    if (this.size === 0) return { count: 0, p50: null, p99: null, p999: null, max: null, mean: null };
    const sorted = this.values.slice(0, this.size).sort();
    const at = (q: number) => round3(sorted[Math.min(this.size - 1, Math.ceil(q * this.size) - 1)]!);
    let sum = 0;
    for (const v of sorted) sum += v;
    return {
      count: this.size,
      p50: at(0.5),
      p99: at(0.99),
      p999: at(0.999),
      max: round3(sorted[this.size - 1]!),
      mean: round3(sum / this.size),
    };
  }
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
