// Unit tests of the Explore query held in the URL: it survives a round trip, ranges, zones and windows resolve
// as shown, the keys zoom and pan as documented, and the api is asked exactly what the view holds.
import { describe, expect, it } from '@jest/globals';

import { aggregatesParams } from './api.js';
import { chartData } from './chart-data.js';
import {
  aggregatesQuery,
  parseExplore,
  parseInstant,
  resolveRange,
  resolveWindow,
  serializeExplore,
  stepRange,
  type ExploreState,
} from './query.js';

describe('Explore query in the URL', () => {
  const state: ExploreState = {
    metric: 'temperature,pressure',
    sensors: ['boiler-7', 'boiler-8'],
    sensorPrefix: 'boiler-',
    tags: { site: 'plant-a' },
    range: 'absolute',
    from: '2026-11-28T00:00:00Z',
    to: '2026-11-29T00:00:00Z',
    window: 'hour',
    fns: ['avg', 'max', 'p95', 'p99.9'],
    tz: 'Europe/Berlin',
    fill: 'previous',
    groupBy: 'sensorId,tag.site',
  };

  it('reopens the same query from its serialised form', () => {
    expect(parseExplore(new URLSearchParams(serializeExplore(state).toString()))).toEqual(state);
  });

  it('drops unknown functions, ranges and fill modes instead of querying with them', () => {
    const parsed = parseExplore(new URLSearchParams('metric=m&range=2y&fns=avg,median,p95&fill=spline'));
    expect(parsed.range).toBe('1h');
    expect(parsed.fns).toEqual(['avg', 'p95']);
    expect(parsed.fill).toBe('none');
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

  it('reads a time without a zone as wall-clock time in the chosen zone, DST included', () => {
    expect(parseInstant('2026-11-28 01:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 10, 28, 0)); // CET, +1
    expect(parseInstant('2026-07-01T02:00:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 0)); // CEST, +2
    expect(parseInstant('2026-11-28T05:30', 'Asia/Kolkata')).toBe(Date.UTC(2026, 10, 28, 0)); // +5:30
    expect(parseInstant('2026-11-28T00:00:00+01:00', 'Asia/Tokyo')).toBe(Date.UTC(2026, 10, 27, 23));
  });

  it("picks for 'auto' the finest fixed window with at most 300 buckets", () => {
    expect(resolveWindow('auto', 0, 300_000)).toBe('1s'); // 300 one-second buckets
    expect(resolveWindow('auto', 0, 301_000)).toBe('5s');
    expect(resolveWindow('auto', 0, 86_400_000)).toBe('5m'); // 288 buckets; minute would be 1440
    expect(resolveWindow('15m', 0, 1)).toBe('15m');
  });

  it('zooms in and out around the middle and pans by a quarter', () => {
    const range = { from: 1_000, to: 9_000 };
    expect(stepRange(range, 'in')).toEqual({ from: 3_000, to: 7_000 });
    expect(stepRange(range, 'out')).toEqual({ from: -3_000, to: 13_000 });
    expect(stepRange(range, 'left')).toEqual({ from: -1_000, to: 7_000 });
    expect(stepRange(range, 'right')).toEqual({ from: 3_000, to: 11_000 });
  });

  it('asks GET /v2/aggregates for exactly the view: ticked sensors, tags, zone, functions, grouping, fill', () => {
    const params = aggregatesParams(
      aggregatesQuery(state, { from: Date.UTC(2026, 10, 28), to: Date.UTC(2026, 10, 29) }),
    );
    expect(Object.fromEntries(params)).toEqual({
      metric: 'temperature,pressure',
      sensorId: 'boiler-7,boiler-8',
      'tag.site': 'plant-a',
      from: '2026-11-28T00:00:00.000Z',
      to: '2026-11-29T00:00:00.000Z',
      window: 'hour',
      tz: 'Europe/Berlin',
      fns: 'avg,max,p95,p99.9',
      groupBy: 'sensorId,tag.site',
      fill: 'previous',
    });
    const byPrefix = aggregatesParams(aggregatesQuery({ ...state, sensors: [], groupBy: 'none' }, { from: 0, to: 1 }));
    expect([byPrefix.get('sensorId'), byPrefix.get('sensorPrefix'), byPrefix.get('groupBy')]).toEqual([
      null,
      'boiler-',
      'none',
    ]);
  });
});

describe('chartData', () => {
  it('draws one line per series and function over the union of bucket starts, null where a series has none', () => {
    const data = chartData({
      from: '2026-11-28T00:00:00.000Z',
      to: '2026-11-28T03:00:00.000Z',
      window: 'hour',
      tz: 'UTC',
      fns: ['avg', 'p95'],
      groupBy: ['sensorId'],
      series: [
        { key: { sensorId: 'a' }, buckets: [{ start: '2026-11-28T01:00:00.000Z', avg: 1, p95: 2 }] },
        { key: { sensorId: 'b' }, buckets: [{ start: '2026-11-28T00:00:00.000Z', avg: 3, p95: null }] },
      ],
    });
    expect(data.x).toEqual([Date.UTC(2026, 10, 28, 0), Date.UTC(2026, 10, 28, 1)]);
    expect(data.lines.map((l) => [l.label, l.values])).toEqual([
      ['a avg', [null, 1]],
      ['a p95', [null, 2]],
      ['b avg', [3, null]],
      ['b p95', [null, null]],
    ]);
  });
});
