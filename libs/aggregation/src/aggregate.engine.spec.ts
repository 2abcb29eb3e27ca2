// Unit test of the engine's refusal of a raw scan too large, with a source that counts as the raw reader does.
import { describe, expect, it } from '@jest/globals';

import type { FunnelConfig } from '@funnel/config';
import { RawScanTooLarge, type BucketReadLimits, type BucketStatsSource } from '@funnel/storage';

import { AggregateEngine } from './aggregate.engine.js';
import { QueryCoalescer } from './query-coalescer.js';
import { QueryGate } from './query-gate.js';
import { QueryRejected } from './query-rejected.js';

const config = {
  MAX_CONCURRENT_QUERIES: 1,
  MAX_QUEUED_QUERIES: 1,
  QUERY_QUEUE_WAIT_MS: 1000,
  QUERY_TIMEOUT_MS: 10_000,
  MAX_POINTS_PER_QUERY: 100_000,
  MAX_SERIES_PER_QUERY: 1000,
  MAX_RAW_READINGS_PER_QUERY: 500,
  QUERY_COALESCE: true,
} as FunnelConfig;

describe('AggregateEngine: more raw readings than MAX_RAW_READINGS_PER_QUERY', () => {
  it('says "more than" the limit, not the count (which stops at limit + 1), and what to ask instead', async () => {
    const asked: BucketReadLimits[] = [];
    // The raw reader counts with limit maxRawReadings + 1: 501 however many of the 10,000 readings match.
    const source: BucketStatsSource = {
      bucketStats: (_selector, _bounds, limits) => {
        asked.push(limits);
        const matched = 10_000;
        return Promise.reject(new RawScanTooLarge(Math.min(matched, limits.maxRawReadings + 1), limits.maxRawReadings));
      },
    };
    const engine = new AggregateEngine(source, new QueryGate(config), config, new QueryCoalescer(config));
    const run = engine.run({
      selector: { metrics: ['temp'] },
      from: Date.UTC(2026, 2, 27),
      to: Date.UTC(2026, 2, 29),
      windowName: '30s',
      window: { kind: 'fixed', ms: 30_000 },
      tz: 'UTC',
      fns: [{ name: 'count' }],
      groupBy: [],
      fill: 'none',
    });
    const error = await run.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejected);
    expect((error as Error).message).toBe(
      'the query would scan more than 500 raw readings: ask for a window of whole minutes so the rollups answer it, ' +
        'a shorter range, or fewer series (MAX_RAW_READINGS_PER_QUERY)',
    );
    expect((error as Error).message).not.toContain('501');
    expect(asked.map((limits) => limits.maxRawReadings)).toEqual([500]);
  });
});

describe('AggregateEngine: over MAX_SERIES_PER_QUERY or MAX_POINTS_PER_QUERY by the catalog', () => {
  const limited = { ...config, MAX_SERIES_PER_QUERY: 2, MAX_POINTS_PER_QUERY: 100 } as FunnelConfig;
  /** A source whose catalog lists `sensors` (one site each, two sites in all) and that counts its reads. */
  function source(sensors: number) {
    const seen = { reads: 0, listed: 0 };
    const catalogued: BucketStatsSource = {
      bucketStats: () => {
        seen.reads++;
        return Promise.resolve([]);
      },
      async *catalogSeries() {
        for (let i = 0; i < sensors; i++) {
          seen.listed++;
          yield { sensorId: `s-${i}`, metric: 'temp', tags: { site: `site-${i % 2}` } };
        }
      },
    };
    return { catalogued, seen };
  }
  const query = (groupBy: string[], hours: number) => ({
    selector: { metrics: ['temp'] },
    from: Date.UTC(2026, 2, 27),
    to: Date.UTC(2026, 2, 27) + hours * 3_600_000,
    windowName: 'hour',
    window: { kind: 'fixed' as const, ms: 3_600_000 },
    tz: 'UTC',
    fns: [{ name: 'count' }],
    groupBy,
    fill: 'none' as const,
  });

  it('refuses more series than the limit before reading any, and stops listing past the limit', async () => {
    const { catalogued, seen } = source(10);
    const engine = new AggregateEngine(catalogued, new QueryGate(limited), limited, new QueryCoalescer(limited));
    const error = await engine.run(query(['sensorId'], 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejected);
    expect((error as Error).message).toBe(
      'the query matches more than MAX_SERIES_PER_QUERY (2) series: filter by sensorId, sensorPrefix or ' +
        'tag.<key>, or group coarser (groupBy)',
    );
    expect(seen).toEqual({ reads: 0, listed: 3 });
  });

  it('refuses more series x buckets than the limit before reading any', async () => {
    const { catalogued, seen } = source(2);
    const engine = new AggregateEngine(catalogued, new QueryGate(limited), limited, new QueryCoalescer(limited));
    const error = await engine.run(query(['sensorId'], 51)).catch((e: unknown) => e);
    expect((error as Error).message).toContain(
      'would hold at least 102 series x buckets, more than MAX_POINTS_PER_QUERY (100)',
    );
    expect(seen.reads).toBe(0);
  });

  it('counts groups, not series: 10 sensors of two sites grouped by site are read', async () => {
    const { catalogued, seen } = source(10);
    const engine = new AggregateEngine(catalogued, new QueryGate(limited), limited, new QueryCoalescer(limited));
    expect(await engine.run(query(['tag.site'], 1))).toEqual([]);
    expect(seen).toEqual({ reads: 1, listed: 10 });
  });
});
