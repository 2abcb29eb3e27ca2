// Unit tests of the process registry: build info, process metrics, and what a feature registers.
import { describe, expect, it } from '@jest/globals';
import { Counter } from 'prom-client';

import { MetricsRegistry } from './metrics.registry.js';

describe('MetricsRegistry', () => {
  it('labels build info with version and role', async () => {
    const text = await new MetricsRegistry('worker', '9.9.9').metrics();
    expect(text).toMatch(/^funnel_build_info\{version="9\.9\.9",role="worker",node="[\d.]+"\} 1$/m);
  });

  it('exports what a feature registers, then the process metrics', async () => {
    const registry = new MetricsRegistry('api', 'test');
    registry.register(new Counter({ name: 'funnel_test_total', help: 'a feature metric', registers: [] })).inc(3);
    const names = registry.seriesNames();
    expect(names.slice(0, 2)).toEqual(['funnel_build_info', 'funnel_test_total']);
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(await registry.metrics()).toContain('funnel_test_total 3');
  });

  it('refuses a second metric of the same name (a module registered twice)', () => {
    const registry = new MetricsRegistry('api', 'test');
    const twin = () => new Counter({ name: 'funnel_twin_total', help: 'twin', registers: [] });
    registry.register(twin());
    expect(() => registry.register(twin())).toThrow(/already been registered/);
  });
});
