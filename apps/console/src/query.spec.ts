// Unit tests of the Explore query held in the URL: it survives a round trip, and ranges and windows resolve as shown.
import { describe, expect, it } from '@jest/globals';

import { bucketsCsv } from './csv.js';
import { parseExplore, resolveRange, resolveWindow, serializeExplore, type ExploreState } from './query.js';

describe('Explore query in the URL', () => {
  const state: ExploreState = {
    sensorId: 'boiler-7',
    metric: 'temperature',
    range: 'absolute',
    from: '2026-11-28T00:00:00Z',
    to: '2026-11-29T00:00:00Z',
    window: 'hour',
    fns: ['avg', 'max'],
    tz: 'Europe/Berlin',
  };

  it('reopens the same query from its serialised form', () => {
    expect(parseExplore(new URLSearchParams(serializeExplore(state).toString()))).toEqual(state);
  });

  it('drops unknown functions and ranges instead of querying with them', () => {
    const parsed = parseExplore(new URLSearchParams('sensorId=s&metric=m&range=2y&fns=avg,median'));
    expect(parsed.range).toBe('1h');
    expect(parsed.fns).toEqual(['avg']);
  });

  it('resolves presets relative to now and checks absolute ranges', () => {
    expect(resolveRange({ ...state, range: '1h' }, 10_000_000)).toEqual({
      from: 10_000_000 - 3_600_000,
      to: 10_000_000,
    });
    expect(resolveRange(state)).toEqual({ from: Date.UTC(2026, 10, 28), to: Date.UTC(2026, 10, 29) });
    expect(resolveRange({ ...state, to: state.from })).toBe('From must be before To');
    expect(resolveRange({ ...state, from: 'yesterday' })).toMatch(/^From is not a date-time/);
  });

  it("picks for 'auto' the finest window with at most 300 buckets", () => {
    expect(resolveWindow('auto', 0, 300_000)).toBe('1s'); // 300 one-second buckets
    expect(resolveWindow('auto', 0, 301_000)).toBe('5s');
    expect(resolveWindow('auto', 0, 86_400_000)).toBe('5m'); // 288 buckets; minute would be 1440
    expect(resolveWindow('15m', 0, 1)).toBe('15m');
  });
});

describe('bucketsCsv', () => {
  it('writes a header of start and the functions, then one line per bucket in ISO UTC', () => {
    const buckets = [{ start: '2026-11-28T04:00:00.000Z', count: 2, avg: 21.8, min: 21.5, max: 22.1, sum: 43.6 }];
    expect(bucketsCsv(buckets, ['avg', 'count'])).toBe('start,avg,count\n2026-11-28T04:00:00.000Z,21.8,2\n');
  });
});
