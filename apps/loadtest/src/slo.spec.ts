// Unit tests of --slo parsing and judging.
import { describe, expect, it } from '@jest/globals';

import type { LoadtestReport } from './report.js';
import { evaluateSlo, parseSlo, SloSyntaxError } from './slo.js';

const report = {
  ingest: { latencyMs: { p50: 4, p99: 42, p999: 80 }, errors: 0, readingsPerSec: 1000, requestsPerSec: 10 },
  freshness: { ms: { p50: 900, p99: null } },
  queries: { latencyMs: { p50: 3, p99: 9, p999: 12 }, errors: 2 },
  reconciliation: { missing: 0 },
} as unknown as LoadtestReport;

describe('--slo', () => {
  it('parses times in us, ms and s into ms, and counts without a unit', () => {
    expect(parseSlo('p99<50ms, p99.9<=0.2s,errors=0,query_p50<500us')).toEqual([
      { expr: 'p99<50ms', metric: 'p99', op: '<', value: 50 },
      { expr: 'p99.9<=0.2s', metric: 'p999', op: '<=', value: 200 },
      { expr: 'errors=0', metric: 'errors', op: '=', value: 0 },
      { expr: 'query_p50<500us', metric: 'query_p50', op: '<', value: 0.5 },
    ]);
  });

  it('rejects unknown metrics, bad syntax and units on counts', () => {
    expect(() => parseSlo('p98<5ms')).toThrow(SloSyntaxError);
    expect(() => parseSlo('p99 about 5ms')).toThrow(/expected <metric><op><number>/);
    expect(() => parseSlo('errors<5ms')).toThrow(/count, not a time/);
  });

  it('passes and fails each threshold against the report', () => {
    const results = evaluateSlo(
      parseSlo('p99<50ms,p99<0.001ms,errors=0,query_errors=0,readings_per_sec>=1000'),
      report,
    );
    expect(results.map((r) => [r.expr, r.actual, r.pass])).toEqual([
      ['p99<50ms', 42, true],
      ['p99<0.001ms', 42, false],
      ['errors=0', 0, true],
      ['query_errors=0', 2, false],
      ['readings_per_sec>=1000', 1000, true],
    ]);
  });

  it('fails a threshold on a figure the run did not measure', () => {
    expect(evaluateSlo(parseSlo('freshness_p99<1s'), report)).toEqual([
      { expr: 'freshness_p99<1s', actual: null, pass: false },
    ]);
  });
});
