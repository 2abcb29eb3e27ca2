// Unit tests of the worker's metrics: gauges read their sources when scraped.
import { describe, expect, it } from '@jest/globals';

import { MetricsRegistry } from '@funnel/metrics';

import { PipelineMetrics } from './pipeline.metrics.js';

describe('PipelineMetrics', () => {
  it('reads lag and buffer size from their sources at scrape time', async () => {
    const registry = new MetricsRegistry('worker', 'test');
    const metrics = new PipelineMetrics(registry);
    let size = 3;
    metrics.observeBuffer(() => size);
    metrics.observeLag(async () => [{ topic: 't', partition: 2, lag: 7 }]);
    size = 11;
    const text = await registry.metrics();
    expect(text).toContain('funnel_buffer_readings 11');
    expect(text).toContain('funnel_consumer_lag{topic="t",partition="2"} 7');
  });
});
