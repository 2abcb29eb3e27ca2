// Unit tests of the role plans: each role exports the metrics of the modules it runs, and only those.
import { describe, expect, it } from '@jest/globals';

import { roleSeriesNames } from './roles.testing.js';

describe('role plans', () => {
  it('registers api metrics only where the api runs, worker metrics only where the worker runs', () => {
    const api = roleSeriesNames('api');
    const worker = roleSeriesNames('worker');
    const all = roleSeriesNames('all');
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
});
