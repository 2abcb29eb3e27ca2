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
 * ISO weeks, the 1st for months), so a local day across a DST change is 23 or 25 hours long. Minutes and hours
 * are steps of elapsed time from a local start of unit (an hour repeated at the autumn change is two buckets).
 */
function calendarEdges(from: number, to: number, unit: CalendarUnit, tz: string, maxBuckets: number): number[] {
  const zone = IANAZone.create(tz);
  let at = DateTime.fromMillis(from, { zone }).startOf(unit);
  if (!at.isValid) throw new BucketOutOfRange();
  const edges = [at.toMillis()];
  while (edges[edges.length - 1]! < to) {
    if (edges.length > maxBuckets) throw new TooManyBucketEdges(edges.length);
    // The next start of unit after the current one: adding one unit and truncating again also lands right where
    // a zone skips its local midnight.
    const next = at.plus({ [unit]: 1 }).startOf(unit);
    if (!next.isValid) {
      edges.push(to); // past the last instant a Date holds: only the end of [from, to) matters there
      break;
    }
    if (next.toMillis() <= at.toMillis()) throw new BucketOutOfRange();
    at = next;
    edges.push(at.toMillis());
  }
  if (edges[0]! < -MAX_INSTANT_MS) throw new BucketOutOfRange();
  return edges;
}
