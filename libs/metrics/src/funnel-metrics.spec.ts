import { describe, expect, it } from '@jest/globals';

import { FunnelMetrics } from './funnel-metrics.js';

describe('WeightedHistogram (end-to-end latency)', () => {
  it('counts an observation of weight n as n observations, in cumulative buckets', async () => {
    const metrics = new FunnelMetrics('worker', 'test');
    metrics.endToEndLatency.observe(0.2, 500);
    metrics.endToEndLatency.observe(4, 37);
    metrics.endToEndLatency.observe(1000, 1);
    metrics.endToEndLatency.observe(1, 0);
    const text = await metrics.metrics();
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

describe('FunnelMetrics registry per role', () => {
  it('registers api metrics only where the api runs, worker metrics only where the worker runs', () => {
    const api = new FunnelMetrics('api', 'test').seriesNames();
    const worker = new FunnelMetrics('worker', 'test').seriesNames();
    const all = new FunnelMetrics('all', 'test').seriesNames();
    expect(api).toContain('funnel_readings_accepted_total');
    expect(api).not.toContain('funnel_readings_written_total');
    expect(worker).toContain('funnel_readings_written_total');
    expect(worker).toContain('funnel_end_to_end_latency_seconds_bucket');
    expect(worker).not.toContain('funnel_readings_accepted_total');
    for (const names of [api, worker]) {
      expect(names).toContain('funnel_build_info');
      expect(names).toContain('funnel_http_requests_total');
      expect(names).toContain('process_cpu_user_seconds_total');
    }
    expect(new Set(all)).toEqual(new Set([...api, ...worker]));
  });

  it('labels build info with version and role', async () => {
    const text = await new FunnelMetrics('worker', '9.9.9').metrics();
    expect(text).toMatch(/^funnel_build_info\{version="9\.9\.9",role="worker",node="[\d.]+"\} 1$/m);
  });

  it('reads lag and buffer size from their sources at scrape time', async () => {
    const metrics = new FunnelMetrics('worker', 'test');
    let size = 3;
    metrics.observeBuffer(() => size);
    metrics.observeLag(async () => [{ topic: 't', partition: 2, lag: 7 }]);
    size = 11;
    const text = await metrics.metrics();
    expect(text).toContain('funnel_buffer_readings 11');
    expect(text).toContain('funnel_consumer_lag{topic="t",partition="2"} 7');
  });
});
