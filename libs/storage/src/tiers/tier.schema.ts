// The documents of the rollup tiers: per-slice minute rollups, compacted minutes, hours and days, and dirty marks.
import type { FunnelConfig } from '@funnel/config';

import type { SeriesFields } from './series-key.js';
import { addReading, emptyStats, fromStored, toStored, type Stats, type StoredStats } from './stats.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The compacted tiers, finest first. */
export const TIERS = ['minute', 'hour', 'day'] as const;
export type Tier = (typeof TIERS)[number];
export const TIER_MS: Record<Tier, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };

/**
 * Statistics of one reading, stored as that reading's time and value: a sensor reporting once a minute or slower
 * (the common case, and every backfill of such data) makes one such minute per reading, and its statistics follow
 * from the reading alone. 2 fields instead of 11 and no sketch to encode. Slice minutes and tier documents (a
 * minute, or an hour or day of a slow series) holding one reading take this form.
 */
export interface SingleReading {
  t: Date;
  v: number;
}

/** Statistics as stored: full, or one reading. */
export type StoredTierStats = StoredStats | SingleReading;

/** The stored form of these statistics: one reading as its time and value, else full. */
export function storedTierStats(stats: Stats): StoredTierStats {
  return stats.n === 1 ? { t: new Date(stats.ft), v: stats.fv } : toStored(stats);
}

/**
 * The statistics of stored ones. A stored form without a count is one reading (`t` alone does not tell: a slice
 * written before slices were grouped per hour holds its topic in `t`).
 */
export function tierStats(stored: StoredTierStats): Stats {
  if ('n' in stored) return fromStored(stored);
  const stats = emptyStats();
  addReading(stats, new Date(stored.t).getTime(), Number(stored.v));
  return stats;
}

/** How many readings stored statistics hold. */
export function storedCount(stored: StoredTierStats): number {
  return 'n' in stored ? Number(stored.n) : 1;
}

/** One minute of a slice: its start and the statistics of the slice's readings in it. */
export type StoredSliceMinute = StoredTierStats & { ts: Date };

/** A slice minute with full statistics. */
export type SliceMinute = StoredStats & { ts: Date };

/** The stored form of a slice minute with these statistics. */
export function storedSliceMinute(start: number, stats: Stats): StoredSliceMinute {
  return { ts: new Date(start), ...storedTierStats(stats) };
}

/** The statistics of a stored slice minute. */
export function sliceMinuteStats(minute: StoredSliceMinute): Stats {
  return tierStats(minute);
}

/**
 * Statistics of one flush slice (one topic-partition of one batch) and one series, per minute, in one document
 * per hour the slice touches: a sensor reporting once a minute makes one slice document per hour of a batch, not
 * one per reading. Written at flush time; deleted once every minute in it is compacted into the minute tier.
 */
export interface SliceDoc extends SeriesFields {
  /** `<topic>:<partition>:<first offset of the slice>:<series key>:<hour start ms>` */
  _id: string;
  t: string;
  p: number;
  /** First and last offset of the slice: a claim deletes slices from its restart offset on. */
  o: number;
  oe: number;
  /** Hour start. */
  ts: Date;
  /** The minutes of the hour that hold readings of the slice, earliest first. */
  mins: StoredSliceMinute[];
}

/**
 * The minutes of a slice. A slice written before slices were grouped per hour (`_id` ending in its minute, the
 * statistics at its top level, no `mins`) is its one minute.
 */
export function sliceMinutes(slice: SliceDoc): readonly StoredSliceMinute[] {
  if (Array.isArray(slice.mins)) return slice.mins;
  return [slice as unknown as SliceMinute];
}

/** Slices taken for one compaction round, and whether any committed slice was left behind. */
export interface SliceTake {
  slices: SliceDoc[];
  more: boolean;
}

/**
 * From slices in offset order, the first ones (at least one) whose minutes add up to at most `maxMinutes`,
 * pulling no more than one slice past them: a backlog of hour-long slices (60 minutes each) is never held whole
 * by a round that merges a few thousand minutes.
 */
export async function takeWithinMinutes(
  slices: AsyncIterable<SliceDoc> | Iterable<SliceDoc>,
  maxMinutes: number,
): Promise<SliceTake> {
  const taken: SliceDoc[] = [];
  let minutes = 0;
  for await (const slice of slices) {
    const n = sliceMinutes(slice).length;
    if (taken.length > 0 && minutes + n > maxMinutes) return { slices: taken, more: true };
    taken.push(slice);
    minutes += n;
  }
  return { slices: taken, more: false };
}

/** The fields of a tier document beside its statistics. */
export interface TierDocFields extends SeriesFields {
  _id: string;
  ts: Date;
  /**
   * Minute tier only: per `<topic>:<partition>`, the last offset whose slices this document holds. A slice
   * whose last offset is at or below it is already counted (compaction deletes it; a query skips it).
   */
  hw?: Record<string, number>;
  /** Random token of the write that made this version: a compare-and-set replaces only the version it read. */
  w: string;
}

/**
 * One series in one minute, hour or day: `_id` is `<series key>:<start ms>`; its statistics full, or its one
 * reading's time and value (see SingleReading).
 */
export type TierDoc = TierDocFields & StoredTierStats;

/** A coarser tier document that may be stale: its finer tier changed since it was computed. */
export interface DirtyMark extends SeriesFields {
  /** `<tier>:<series key>:<start ms>` */
  _id: string;
  tier: Exclude<Tier, 'minute'>;
  ts: Date;
  /** Token of the latest mark: a recompute clears only the mark it saw. */
  w: string;
}

/** Collection names, beside the readings collection. */
export function tierCollections(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): {
  slices: string;
  minute: string;
  hour: string;
  day: string;
  dirty: string;
} {
  const base = config.MONGODB_COLLECTION;
  return {
    slices: `${base}_slices`,
    minute: `${base}_m1`,
    hour: `${base}_h1`,
    day: `${base}_d1`,
    dirty: `${base}_dirty`,
  };
}

/** `<topic>:<partition>`, the key of a minute document's high-water marks. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** Start of the tier period holding `ts` (epoch-aligned: UTC minutes, hours, days). */
export function periodStart(ts: number, tier: Tier): number {
  const width = TIER_MS[tier];
  return ts - (((ts % width) + width) % width);
}
