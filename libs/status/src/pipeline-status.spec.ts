// Unit tests of what GET /v1/pipeline makes of one process's scrape: totals, lag per partition, latency summaries.
import { describe, expect, it } from '@jest/globals';

import { Scrape } from '@funnel/dev-infra';

import { summarizeProcess } from './pipeline-status.js';

const SCRAPE = `
# HELP funnel_build_info x
funnel_build_info{version="0.1.0",role="worker",node="20.20.2"} 1
funnel_readings_consumed_total 120
funnel_readings_written_total 100
funnel_dead_letters_total 2
funnel_buffer_readings 20
funnel_consumer_lag{topic="t",partition="1"} 5
funnel_consumer_lag{topic="t",partition="0"} 7
funnel_flush_duration_seconds_bucket{le="0.1",result="ok"} 6
funnel_flush_duration_seconds_bucket{le="0.5",result="ok"} 9
funnel_flush_duration_seconds_bucket{le="+Inf",result="ok"} 10
funnel_flush_duration_seconds_sum{result="ok"} 2.5
funnel_flush_duration_seconds_count{result="ok"} 10
`;

describe('summarizeProcess', () => {
  const health = { status: 'ok' as const, checks: { mongodb: { status: 'up' } } };

  it('reads role, totals, buffer and lag sorted by partition', () => {
    const status = summarizeProcess('http://w:3001', Scrape.parse(SCRAPE), health);
    expect(status).toMatchObject({
      url: 'http://w:3001',
      role: 'worker',
      version: '0.1.0',
      reachable: true,
      health,
      readingsAccepted: 0,
      readingsConsumed: 120,
      readingsWritten: 100,
      deadLetters: 2,
      bufferReadings: 20,
      consumerLag: [
        { topic: 't', partition: 0, lag: 7 },
        { topic: 't', partition: 1, lag: 5 },
      ],
    });
  });

  it('summarises a histogram: mean = sum / count, quantiles as the bucket bound holding that share', () => {
    const { flush, endToEnd } = summarizeProcess('u', Scrape.parse(SCRAPE), health);
    // 6 of 10 flushes were <= 0.1 s (the median's bucket), 9 <= 0.5 s, so the 95th is only bounded by +Inf.
    expect(flush).toEqual({ count: 10, meanSeconds: 0.25, p50Seconds: 0.1, p95Seconds: null });
    expect(endToEnd).toEqual({ count: 0, meanSeconds: null, p50Seconds: null, p95Seconds: null });
  });

  it('reports a process that did not answer, with the reason and no numbers', () => {
    const status = summarizeProcess('u', undefined, { status: 'unreachable', checks: {} }, 'connect ECONNREFUSED');
    expect(status).toMatchObject({ role: null, reachable: false, error: 'connect ECONNREFUSED', bufferReadings: null });
    expect(status.consumerLag).toEqual([]);
  });
});
