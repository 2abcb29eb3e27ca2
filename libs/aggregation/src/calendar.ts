/** Bucket boundaries of a query: fixed windows aligned to the UTC epoch, or calendar units in an IANA zone. */
import { DateTime, IANAZone } from 'luxon';

import { MAX_INSTANT_MS } from '@funnel/contracts';

import { bucketStart, parseWindow } from './window.js';

export const CALENDAR_UNITS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type CalendarUnit = (typeof CALENDAR_UNITS)[number];

/** A window: a fixed width in ms aligned to the epoch, or a calendar unit of a time zone. */
export type WindowSpec = { kind: 'fixed'; ms: number } | { kind: 'calendar'; unit: CalendarUnit };

/** A v2 window: a calendar unit name, or a fixed duration (`30s`, `5m`, `6h`, `7d`); undefined if neither. */
export function parseWindowSpec(window: string): WindowSpec | undefined {
  if ((CALENDAR_UNITS as readonly string[]).includes(window)) return { kind: 'calendar', unit: window as CalendarUnit };
  const ms = parseWindow(window);
  return ms === undefined ? undefined : { kind: 'fixed', ms };
}

/** Whether `tz` names an IANA time zone this runtime knows (`UTC`, `Europe/Berlin`, ...). */
export function isTimeZone(tz: string): boolean {
  return tz.length > 0 && tz.length <= 64 && IANAZone.isValidZone(tz);
}

/** Thrown when [from, to) holds more buckets than the caller allows; carries how many were counted so far. */
export class TooManyBucketEdges extends Error {
  constructor(readonly atLeast: number) {
    super(`at least ${atLeast} buckets`);
  }
}

/** Thrown when a bucket of the range would begin or end outside what a JavaScript Date holds. */
export class BucketOutOfRange extends Error {}

/**
 * The edges of every bucket overlapping [from, to): edges[i] starts bucket i, which ends at edges[i + 1], and
 * edges[0] <= from < to <= edges[last]. At most `maxBuckets` buckets, else TooManyBucketEdges
 * (thrown before any bucket past the limit is computed, so a huge range costs nothing).
 */
export function bucketEdges(from: number, to: number, window: WindowSpec, tz: string, maxBuckets: number): number[] {
  if (window.kind === 'fixed') {
    const first = bucketStart(from, window.ms);
    const count = (bucketStart(to - 1, window.ms) - first) / window.ms + 1;
    if (count > maxBuckets) throw new TooManyBucketEdges(count);
    const edges = Array.from({ length: count + 1 }, (_, i) => first + i * window.ms);
    if (first < -MAX_INSTANT_MS) throw new BucketOutOfRange();
    return edges;
  }
  return calendarEdges(from, to, window.unit, tz, maxBuckets);
}

/**
 * Calendar buckets in `tz`: each starts at the local start of its unit (a local midnight for days, Monday for
 * ISO weeks, the 1st for months), so a local day across a DST change is 23 or 25 hours long; the next start is
 * one unit later, truncated to the unit again (luxon's `plus` then `startOf`: elapsed time for minutes and
 * hours, so an hour repeated at the autumn change is two buckets; calendar time for the rest).
 *
 * luxon costs ~0.1 ms a step, so between offset changes (found by probing the zone a week apart, then bisecting)
 * the next start is plain arithmetic on local time; luxon steps over each change.
 */
function calendarEdges(from: number, to: number, unit: CalendarUnit, tz: string, maxBuckets: number): number[] {
  const zone = IANAZone.create(tz);
  const first = DateTime.fromMillis(from, { zone }).startOf(unit);
  if (!first.isValid) throw new BucketOutOfRange();
  const edges = [first.toMillis()];
  let at = edges[0]!;
  let segment = offsetSegment(zone, at, to);
  while (at < to) {
    if (edges.length > maxBuckets) throw new TooManyBucketEdges(edges.length);
    let next = at < segment.end ? nextLocalStart(at + segment.offsetMs, unit) - segment.offsetMs : Infinity;
    if (next >= segment.end) {
      const stepped = DateTime.fromMillis(at, { zone })
        .plus({ [unit]: 1 })
        .startOf(unit);
      if (!stepped.isValid) {
        edges.push(to); // past the last instant a Date holds: only the end of [from, to) matters there
        break;
      }
      next = stepped.toMillis();
      if (next <= at) throw new BucketOutOfRange();
      segment = offsetSegment(zone, next, to);
    }
    at = next;
    edges.push(at);
  }
  if (edges[0]! < -MAX_INSTANT_MS) throw new BucketOutOfRange();
  return edges;
}

const DAY_MS = 86_400_000;
/** How far apart the zone is probed for an offset change: no zone changes its offset twice within a week. */
const PROBE_MS = 7 * DAY_MS;

/**
 * The zone's offset at `at`, and `end`: the first instant after it with another offset, or (none found by then)
 * the last instant probed past `until`. The offset holds throughout [at, end).
 */
function offsetSegment(zone: IANAZone, at: number, until: number): { offsetMs: number; end: number } {
  const offset = zone.offset(at);
  let known = at; // the offset is `offset` at `known`
  for (;;) {
    const probe = known + PROBE_MS;
    if (probe > MAX_INSTANT_MS || known > until) return { offsetMs: offset * 60_000, end: known };
    if (zone.offset(probe) !== offset) {
      let [lo, hi] = [known, probe]; // offset(lo) is the segment's, offset(hi) is not
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zone.offset(mid) === offset) lo = mid;
        else hi = mid;
      }
      return { offsetMs: offset * 60_000, end: hi };
    }
    known = probe;
  }
}

/** The next start of `unit` after the local time `local` (local wall-clock ms read as if UTC). */
function nextLocalStart(local: number, unit: CalendarUnit): number {
  switch (unit) {
    case 'minute':
      return Math.floor(local / 60_000) * 60_000 + 60_000;
    case 'hour':
      return Math.floor(local / 3_600_000) * 3_600_000 + 3_600_000;
    case 'day':
      return Math.floor(local / DAY_MS) * DAY_MS + DAY_MS;
    case 'week': {
      const day = Math.floor(local / DAY_MS) * DAY_MS;
      const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
      return day + (7 - sinceMonday) * DAY_MS;
    }
    case 'month': {
      const date = new Date(local);
      const next = new Date(0); // setUTCFullYear, unlike Date.UTC, takes years 0-99 as written
      next.setUTCFullYear(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
      return next.getTime();
    }
  }
}
