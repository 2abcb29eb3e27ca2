// Unit tests of the weighted histogram as Prometheus serialises it.
import { describe, expect, it } from '@jest/globals';

import { MetricsRegistry } from './metrics.registry.js';
import { WeightedHistogram } from './weighted-histogram.js';

describe('WeightedHistogram (end-to-end latency)', () => {
  it('counts an observation of weight n as n observations, in cumulative buckets', async () => {
    const registry = new MetricsRegistry('worker', 'test');
    const latency = registry.register(
      new WeightedHistogram('funnel_end_to_end_latency_seconds', 'test', [0.1, 0.25, 1, 5, 120]),
    );
    latency.observe(0.2, 500);
    latency.observe(4, 37);
    latency.observe(1000, 1);
    latency.observe(1, 0);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE funnel_end_to_end_latency_seconds histogram');
    expect(text).toContain('funnel_end_to_end_latency_seconds_bucket{le="0.1"} 0');
    expect(text).toContain('funnel_end_to_end_latency_seconds_bucket{le="0.25"} 500');
    expect(text).toContain('funnel_end_to_end_latency_seconds_bucket{le="5"} 537');
    expect(text).toContain('funnel_end_to_end_latency_seconds_bucket{le="120"} 537');
    expect(text).toContain('funnel_end_to_end_latency_seconds_bucket{le="+Inf"} 538');
    expect(text).toContain('funnel_end_to_end_latency_seconds_count 538');
    expect(text).toContain(`funnel_end_to_end_latency_seconds_sum ${0.2 * 500 + 4 * 37 + 1000}`);
  });
});
