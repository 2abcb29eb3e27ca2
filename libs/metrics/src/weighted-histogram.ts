// A Prometheus histogram whose observations carry a weight, for latencies shared by a record's readings.

interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * A Prometheus histogram that takes an observation with a weight: `observe(v, n)` counts n equal
 * observations at once. The readings of one Kafka record share their receipt and write times, so their
 * end-to-end latency is one value observed n times; prom-client's Histogram would need n calls.
 */
export class WeightedHistogram {
  readonly type = 'histogram';
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: number[],
  ) {
    this.counts = upperBounds.map(() => 0);
  }

  observe(value: number, weight = 1): void {
    if (weight <= 0) {
      return;
    }
    this.sum += value * weight;
    this.count += weight;
    const bucket = this.upperBounds.findIndex((bound) => value <= bound);
    if (bucket >= 0) {
      this.counts[bucket] += weight;
    }
  }

  /** The shape prom-client's Registry serialises: cumulative `_bucket` lines, then `_sum` and `_count`. */
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' } {
    let cumulative = 0;
    const values: Sample[] = this.upperBounds.map((bound, i) => {
      cumulative += this.counts[i];
      return { metricName: `${this.name}_bucket`, labels: { le: bound }, value: cumulative };
    });
    values.push(
      { metricName: `${this.name}_bucket`, labels: { le: '+Inf' }, value: this.count },
      { metricName: `${this.name}_sum`, labels: {}, value: this.sum },
      { metricName: `${this.name}_count`, labels: {}, value: this.count },
    );
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
