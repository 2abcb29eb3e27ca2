/** Checks calendar bucket edges against luxon stepped bucket by bucket, and against known DST and month facts. */
import { describe, expect, it } from '@jest/globals';
import { DateTime } from 'luxon';

import { bucketEdges, isTimeZone, parseWindowSpec, TooManyBucketEdges, type CalendarUnit } from './calendar.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Reference: every edge from luxon itself, one plus-then-startOf step at a time. */
function stepped(from: number, to: number, unit: CalendarUnit, tz: string): number[] {
  let at = DateTime.fromMillis(from, { zone: tz }).startOf(unit);
  const edges = [at.toMillis()];
  while (at.toMillis() < to) {
    at = at.plus({ [unit]: 1 }).startOf(unit);
    edges.push(at.toMillis());
  }
  return edges;
}

const utc = (iso: string) => Date.parse(iso);
const lengths = (edges: number[]) => edges.slice(1).map((e, i) => (e - edges[i]!) / HOUR);

describe('calendar bucket edges', () => {
  it('makes Berlin and New York days 23 and 25 hours long on their 2026 DST dates', () => {
    const berlin = bucketEdges(
      utc('2026-03-28T12:00:00Z'),
      utc('2026-03-30T12:00:00Z'),
      { kind: 'calendar', unit: 'day' },
      'Europe/Berlin',
      100,
    );
    expect(berlin.map((e) => new Date(e).toISOString())).toEqual([
      '2026-03-27T23:00:00.000Z',
      '2026-03-28T23:00:00.000Z',
      '2026-03-29T22:00:00.000Z',
      '2026-03-30T22:00:00.000Z',
    ]);
    expect(lengths(berlin)).toEqual([24, 23, 24]);
    const autumn = bucketEdges(
      utc('2026-10-25T00:00:00Z'),
      utc('2026-10-25T12:00:00Z'),
      { kind: 'calendar', unit: 'day' },
      'Europe/Berlin',
      10,
    );
    expect(lengths(autumn)).toEqual([25]);
    const ny = (from: string, to: string) =>
      lengths(bucketEdges(utc(from), utc(to), { kind: 'calendar', unit: 'day' }, 'America/New_York', 10));
    expect(ny('2026-03-08T12:00:00Z', '2026-03-08T13:00:00Z')).toEqual([23]);
    expect(ny('2026-11-01T12:00:00Z', '2026-11-01T13:00:00Z')).toEqual([25]);
  });

  it('repeats the autumn hour as two buckets and skips the spring one', () => {
    const autumn = bucketEdges(
      utc('2026-10-24T23:00:00Z'),
      utc('2026-10-25T02:00:00Z'),
      { kind: 'calendar', unit: 'hour' },
      'Europe/Berlin',
      10,
    );
    expect(autumn).toEqual([0, 1, 2, 3].map((h) => utc('2026-10-24T23:00:00Z') + h * HOUR));
    const spring = bucketEdges(
      utc('2026-03-29T00:00:00Z'),
      utc('2026-03-29T02:00:00Z'),
      { kind: 'calendar', unit: 'hour' },
      'Europe/Berlin',
      10,
    );
    expect(spring.map((e) => DateTime.fromMillis(e, { zone: 'Europe/Berlin' }).hour)).toEqual([1, 3, 4]);
  });

  it('aligns hours in Kolkata to :30 UTC and days to 18:30 UTC', () => {
    const hours = bucketEdges(
      utc('2026-04-30T10:00:00Z'),
      utc('2026-04-30T11:00:00Z'),
      { kind: 'calendar', unit: 'hour' },
      'Asia/Kolkata',
      10,
    );
    expect(hours.map((e) => new Date(e).toISOString().slice(11, 16))).toEqual(['09:30', '10:30', '11:30']);
    const days = bucketEdges(
      utc('2026-04-30T20:00:00Z'),
      utc('2026-04-30T21:00:00Z'),
      { kind: 'calendar', unit: 'day' },
      'Asia/Kolkata',
      10,
    );
    expect(days.map((e) => new Date(e).toISOString())).toEqual([
      '2026-04-30T18:30:00.000Z',
      '2026-05-01T18:30:00.000Z',
    ]);
  });

  it('starts ISO weeks on Monday and months on the 1st, leap February included', () => {
    const weeks = bucketEdges(
      utc('2026-03-04T00:00:00Z'),
      utc('2026-03-05T00:00:00Z'),
      { kind: 'calendar', unit: 'week' },
      'UTC',
      10,
    );
    expect(weeks.map((e) => new Date(e).getUTCDay())).toEqual([1, 1]);
    const months = bucketEdges(
      utc('2028-01-15T00:00:00Z'),
      utc('2028-03-15T00:00:00Z'),
      { kind: 'calendar', unit: 'month' },
      'UTC',
      10,
    );
    expect(lengths(months).map((h) => h / 24)).toEqual([31, 29, 31]);
  });

  it('equals luxon stepped bucket by bucket, for many zones, units and ranges (seeded)', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'America/Santiago',
      'Pacific/Chatham',
      'Africa/Casablanca',
    ];
    const spans: Record<CalendarUnit, number> = {
      minute: DAY / 4,
      hour: 20 * DAY,
      day: 400 * DAY,
      week: 2000 * DAY,
      month: 8000 * DAY,
    };
    let seed = 20260329;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const wrong: string[] = [];
    for (const tz of zones) {
      for (const unit of Object.keys(spans) as CalendarUnit[]) {
        for (let i = 0; i < 3; i++) {
          const from = Math.floor(utc('1990-01-01T00:00:00Z') + random() * 45 * 365 * DAY);
          const to = from + 1 + Math.floor(random() * spans[unit]);
          const got = bucketEdges(from, to, { kind: 'calendar', unit }, tz, 1e6);
          if (JSON.stringify(got) !== JSON.stringify(stepped(from, to, unit, tz)))
            wrong.push(`${tz} ${unit} ${from} ${to}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('stops counting past the limit', () => {
    expect(() => bucketEdges(0, 366 * DAY, { kind: 'calendar', unit: 'hour' }, 'Europe/Berlin', 100)).toThrow(
      TooManyBucketEdges,
    );
    expect(() => bucketEdges(0, 366 * DAY, { kind: 'fixed', ms: HOUR }, 'UTC', 100)).toThrow(TooManyBucketEdges);
  });

  it('parses windows and zones', () => {
    expect(parseWindowSpec('week')).toEqual({ kind: 'calendar', unit: 'week' });
    expect(parseWindowSpec('15m')).toEqual({ kind: 'fixed', ms: 15 * 60_000 });
    expect(parseWindowSpec('toString')).toBeUndefined();
    expect(parseWindowSpec('year')).toBeUndefined();
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});
