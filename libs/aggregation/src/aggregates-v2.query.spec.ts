/** Checks the query-string parser of GET /v2/aggregates: every parameter, its defaults and every refusal. */
import { describe, expect, it } from '@jest/globals';

import { MAX_INSTANT_MS, MAX_METRIC_LENGTH, MAX_TAGS } from '@funnel/contracts';

import { MAX_FNS, MAX_LISTED_METRICS, parseV2Query, type AggregateQuery } from './aggregates-v2.query.js';

const BASE = { metric: 'temperature', from: '2026-03-28T00:00:00Z', to: '2026-03-30T00:00:00Z', window: 'hour' };

/** The parsed query of BASE with `extra` (and without the names in `drop`); fails the test if it is refused. */
function parsed(extra: Record<string, unknown> = {}, drop: string[] = []): AggregateQuery {
  const raw: Record<string, unknown> = { ...BASE, ...extra };
  for (const name of drop) delete raw[name];
  const result = parseV2Query(raw);
  if ('problems' in result) throw new Error(`refused: ${result.problems.join('; ')}`);
  return result.query;
}

/** The problems of BASE with `extra`; fails the test if it is accepted. */
function problems(extra: Record<string, unknown> = {}, drop: string[] = []): string[] {
  const raw: Record<string, unknown> = { ...BASE, ...extra };
  for (const name of drop) delete raw[name];
  const result = parseV2Query(raw);
  if (!('problems' in result)) throw new Error('accepted');
  return result.problems;
}

describe('parseV2Query defaults', () => {
  it('takes fns count,avg,min,max,sum, groupBy sensorId,metric, fill none, tz UTC and no format', () => {
    const result = parseV2Query(BASE);
    expect(result).toEqual({
      query: {
        selector: { metrics: ['temperature'] },
        from: Date.UTC(2026, 2, 28),
        to: Date.UTC(2026, 2, 30),
        windowName: 'hour',
        window: { kind: 'calendar', unit: 'hour' },
        tz: 'UTC',
        fns: ['count', 'avg', 'min', 'max', 'sum'].map((name) => ({ name })),
        groupBy: ['sensorId', 'metric'],
        fill: 'none',
      },
      format: undefined,
    });
  });

  it.each(['metric', 'from', 'to', 'window'])('requires %s and names it', (name) => {
    expect(problems({}, [name])).toEqual([`${name} is required`]);
  });

  it('reports every bad parameter at once, each message beginning with its name', () => {
    const found = problems({ window: 'fortnight', tz: 'Mars/Olympus', fns: 'p101', fill: 'sideways' });
    expect(found.map((p) => p.split(/[ :]/)[0])).toEqual(['window', 'tz', 'fns', 'fill']);
  });
});

describe('parseV2Query fns', () => {
  it.each([
    ['p50', 0.5],
    ['p95', 0.95],
    ['p99.9', 0.999],
    ['p100', 1],
    ['p0.001', 0.00001],
    ['p99.999999', 0.99999999],
  ])('takes the percentile %s as quantile %d', (name, quantile) => {
    const [fn] = parsed({ fns: name }).fns;
    expect(fn!.name).toBe(name);
    expect(fn!.quantile).toBeCloseTo(quantile, 12);
  });

  it.each(['p0', 'p0.0', 'p00', 'p101', 'p100.5', 'p1000', 'p99999999999999999999'])(
    'refuses %s as out of range (0 < q <= 100)',
    (name) => {
      expect(problems({ fns: name })).toEqual([`fns: percentile ${name} is out of range (0 < q <= 100)`]);
    },
  );

  it.each(['pabc', 'p', 'p-5', 'p50.', 'p.5', 'p99.9999999', 'P50', 'median', 'avg ', ''])(
    'refuses %j as no function, naming fns',
    (name) => {
      const [problem, ...rest] = problems({ fns: name });
      expect(rest).toEqual([]);
      expect(problem).toMatch(/^fns: ".*" is not a function \(expected count, sum, avg, .* p99\.9\)$/);
    },
  );

  it('takes every plain function in the order asked', () => {
    const names = ['stddev', 'spread', 'last', 'first', 'max', 'min', 'avg', 'sum', 'count'];
    expect(parsed({ fns: names.join(',') }).fns).toEqual(names.map((name) => ({ name })));
  });

  it('refuses a function listed twice and an empty item', () => {
    expect(problems({ fns: 'avg,p95,avg' })).toEqual(['fns lists avg twice']);
    expect(problems({ fns: 'avg,,max' })[0]).toMatch(/^fns: "" is not a function/);
  });

  it(`refuses more than ${MAX_FNS} functions`, () => {
    const many = Array.from({ length: MAX_FNS + 1 }, (_, i) => `p${i + 1}`).join(',');
    expect(problems({ fns: many })).toEqual([`fns lists ${MAX_FNS + 1} functions, at most ${MAX_FNS}`]);
    expect(parsed({ fns: many.split(',').slice(0, MAX_FNS).join(',') }).fns).toHaveLength(MAX_FNS);
  });
});

describe('parseV2Query window and tz', () => {
  it.each(['minute', 'hour', 'day', 'week', 'month'])('takes the calendar unit %s', (unit) => {
    expect(parsed({ window: unit }).window).toEqual({ kind: 'calendar', unit });
  });

  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['15m', 900_000],
    ['6h', 21_600_000],
    ['7d', 604_800_000],
    ['366d', 366 * 86_400_000],
  ])('takes the fixed duration %s as %d ms', (window, ms) => {
    const query = parsed({ window });
    expect(query.window).toEqual({ kind: 'fixed', ms });
    expect(query.windowName).toBe(window);
  });

  it.each(['1M', 'year', '367d', '0m', '05m', 'Hour', '1.5h', '-1h', ''])('refuses the window %j', (window) => {
    expect(problems({ window })).toEqual([
      'window must be minute, hour, day, week, month, or a duration like 30s, 5m, 15m, 6h, 7d (at most 366d)',
    ]);
  });

  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'])('takes the zone %s', (tz) => {
    expect(parsed({ tz, window: 'day' }).tz).toBe(tz);
  });

  it.each(['Mars/Olympus', '', 'Europe/berlin ', '+01:00x', 'x'.repeat(65)])('refuses the zone %j', (tz) => {
    expect(problems({ tz })).toEqual(['tz must be an IANA time zone name such as UTC or Europe/Berlin']);
  });
});

describe('parseV2Query groupBy and fill', () => {
  it('takes none as an empty key and tag.<key> fields in the order asked', () => {
    expect(parsed({ groupBy: 'none' }).groupBy).toEqual([]);
    expect(parsed({ groupBy: 'tag.site,sensorId' }).groupBy).toEqual(['tag.site', 'sensorId']);
    expect(parsed({ groupBy: 'metric' }).groupBy).toEqual(['metric']);
  });

  it.each([
    ['site', '"site" is not a field'],
    ['tag.', '"tag." is not a field'],
    ['tag.a b', '"tag.a b" is not a field'],
    ['none,sensorId', '"none" is not a field'],
    ['sensorId,', '"" is not a field'],
  ])('refuses groupBy=%s', (groupBy, message) => {
    expect(problems({ groupBy })).toEqual([
      `groupBy: ${message} (expected sensorId, metric, tag.<key>, or none alone)`,
    ]);
  });

  it('refuses a groupBy field listed twice', () => {
    expect(problems({ groupBy: 'tag.site,tag.site' })).toEqual(['groupBy lists tag.site twice']);
  });

  it.each(['none', 'null', 'zero', 'previous', 'linear'])('takes fill=%s', (fill) => {
    expect(parsed({ fill }).fill).toBe(fill);
  });

  it.each(['prev', 'NULL', ''])('refuses fill=%j', (fill) => {
    expect(problems({ fill })).toEqual(['fill must be one of none, null, zero, previous, linear']);
  });
});

describe('parseV2Query selection', () => {
  it('takes metric and sensorId lists (deduplicated), a prefix and tag filters in both spellings', () => {
    const query = parsed({
      metric: 'temperature,pressure,temperature',
      sensorId: 'b-2,b-1',
      sensorPrefix: 'b-',
      'tag.site': 'north',
      'tag[floor]': '3',
    });
    expect(query.selector).toEqual({
      metrics: ['temperature', 'pressure'],
      sensorIds: ['b-2', 'b-1'],
      sensorPrefix: 'b-',
      tags: { site: 'north', floor: '3' },
    });
  });

  it('refuses bad names, naming the parameter and the item', () => {
    expect(problems({ metric: 'temp,a b' })).toEqual([
      `metric must be a comma-separated list of names of 1-${MAX_METRIC_LENGTH} characters of [A-Za-z0-9._:-] (got "a b")`,
    ]);
    expect(problems({ sensorId: '' })[0]).toMatch(/^sensorId must be a comma-separated list .* \(got ""\)$/);
    expect(problems({ sensorPrefix: 'a/b' })[0]).toMatch(/^sensorPrefix must be 1-\d+ characters/);
  });

  it(`refuses more than ${MAX_LISTED_METRICS} metrics`, () => {
    const metric = Array.from({ length: MAX_LISTED_METRICS + 1 }, (_, i) => `m${i}`).join(',');
    expect(problems({ metric })).toEqual([
      `metric lists ${MAX_LISTED_METRICS + 1} names, at most ${MAX_LISTED_METRICS}`,
    ]);
  });

  it('refuses a tag filter given twice (in either spelling), a bad key and too many filters', () => {
    expect(problems({ 'tag.site': 'a', 'tag[site]': 'b' })).toEqual(['tag.site must be given once']);
    expect(problems({ 'tag.a b': 'x' })[0]).toMatch(/^tag\.a b: a tag key is 1-64 characters/);
    expect(problems({ 'tag.site': 'v'.repeat(257) })).toEqual(['tag.site must be at most 256 characters']);
    const tags = Object.fromEntries(Array.from({ length: MAX_TAGS + 1 }, (_, i) => [`tag.k${i}`, 'v']));
    expect(problems(tags)).toEqual([`tag.<key>: at most ${MAX_TAGS} tag filters`]);
  });

  it('refuses unknown parameters by name, listing the known ones', () => {
    expect(problems({ limit: '10' })).toEqual([
      'query parameter "limit" is not known (expected: metric, sensorId, sensorPrefix, from, to, window, tz, fns, groupBy, fill, format, tag.<key>)',
    ]);
    expect(problems({ tags: 'x' })[0]).toMatch(/^query parameter "tags" is not known/);
  });

  it('refuses a parameter given twice (an array) and takes format json or csv only', () => {
    expect(problems({ window: ['hour', 'day'] })).toEqual(['window must be given once']);
    expect(problems({ from: ['0', '1'], to: ['2', '3'] })).toEqual([
      'from must be given once',
      'to must be given once',
    ]);
    expect(parseV2Query({ ...BASE, format: 'csv' })).toMatchObject({ format: 'csv' });
    expect(problems({ format: 'xml' })).toEqual(['format must be one of json, csv']);
  });
});

describe('parseV2Query instants', () => {
  it.each([
    [String(MAX_INSTANT_MS), MAX_INSTANT_MS],
    [String(-MAX_INSTANT_MS), -MAX_INSTANT_MS],
    ['0', 0],
    ['2026-03-29T03:00:00+02:00', Date.UTC(2026, 2, 29, 1)],
  ])('takes %s as %d ms', (value, ms) => {
    expect(parsed({ from: value, to: value }).from).toBe(ms);
  });

  it.each([String(MAX_INSTANT_MS + 1), String(-MAX_INSTANT_MS - 1), '9007199254740993', '-1' + '0'.repeat(400)])(
    'refuses %s in from and in to as out of range, naming each and the range',
    (value) => {
      const message = (p: string) =>
        `${p} is out of range: an instant must lie within ±8,640,000,000,000,000 epoch ms ` +
        '(what a JavaScript Date holds: -271821-04-20T00:00:00Z to +275760-09-13T00:00:00Z)';
      expect(problems({ from: value })).toEqual([message('from')]);
      expect(problems({ to: value })).toEqual([message('to')]);
    },
  );

  it.each([
    '+275760-09-13T00:00:00.001Z', // an expanded year: not a form taken, in range or not
    '2026-03-29T03:00:00', // no zone
    '1.5',
    'yesterday',
  ])('refuses %s in from and in to as malformed, naming each', (value) => {
    const message = (p: string) =>
      `${p} must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T00:00:00Z) or integer epoch milliseconds`;
    expect(problems({ from: value })).toEqual([message('from')]);
    expect(problems({ to: value })).toEqual([message('to')]);
  });
});
