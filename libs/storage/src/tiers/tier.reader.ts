// Answers bucket statistics from the coarsest tier that holds each part exactly, with raw readings at the edges.
import { Inject, Injectable, Optional } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';

import {
  type BucketReadLimits,
  type BucketStatsSource,
  type SeriesBuckets,
  type SeriesId,
  type SeriesSelector,
  type StatGroup,
} from './bucket-stats.js';
import { SeriesCatalogRepository } from './series-catalog.repository.js';
import { QuantileSketch } from './sketch.js';
import { planSlots, rangesOf, type Slot } from './slot-plan.js';
import { emptyStats, mergeInto, type Stats } from './stats.js';
import { retentionMs } from './tier.compactor.js';
import {
  partitionKey,
  periodStart,
  sliceMinuteStats,
  sliceMinutes,
  storedCount,
  tierStats,
  TIER_MS,
  type Tier,
  type TierDoc,
} from './tier.schema.js';
import { TierStore } from './tier.store.js';

/** The raw-readings source the reader asks for the parts no tier holds whole. */
export const RAW_BUCKET_STATS = Symbol('RAW_BUCKET_STATS');

/** A range needs a tier (or the raw readings) past its retention. */
export class TierExpired extends Error {
  constructor(
    readonly source: Tier | 'raw',
    readonly retention: string,
  ) {
    super(
      `the range needs ${source === 'raw' ? 'raw readings' : `${source} rollups`}, which are kept for ${retention}: ` +
        'ask for a later range or a coarser window',
    );
    this.name = 'TierExpired';
  }
}

function human(ms: number): string {
  const day = 86_400_000;
  return ms % day === 0 ? `${ms / day}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 60_000}m`;
}

/**
 * Reading by id on the stand-in: a document read by id costs about as much as SCANNED_PER_ID scanned ones
 * (5,000 ids in `$in` lists of 100 took 81–91 ms over 600,000 documents; a scan of 2 million minute documents
 * took over 10 s), up to ALWAYS_BY_ID ids are read by id whatever the collection's size, and never more than
 * MAX_ID_READS (their list is held in memory).
 */
const SCANNED_PER_ID = 4;
const ALWAYS_BY_ID = 2_000;
const MAX_ID_READS = 200_000;

const DEMOTE: Record<Exclude<Tier, 'minute'>, Tier> = { day: 'hour', hour: 'minute' };

/**
 * Fields of a tier document every read needs: its series and period, its count, the high-water marks of a
 * minute, and `t`/`v` of a document that holds one reading as that reading (absent elsewhere: they cost nothing).
 */
const BASE_FIELDS = ['_id', 'k', 's', 'm', 'g', 'ts', 'n', 't', 'v'] as const;
/** The stored fields of each group of statistics. */
const GROUP_FIELDS: Record<StatGroup, readonly string[]> = {
  sum: ['sum'],
  range: ['min', 'max'],
  first: ['ft', 'fv'],
  last: ['lt', 'lv'],
  variance: ['mean', 'm2'],
  sketch: ['q'],
};

/**
 * The projection of a tier read that needs only `stats` (undefined: every field). The stand-in and the driver
 * cost per field decoded: an hour document read for avg and p95 decodes 9 of its 19 fields.
 */
function tierProjection(tier: Tier, stats: ReadonlySet<StatGroup> | undefined): Record<string, 1> | undefined {
  if (!stats) return undefined;
  const fields: string[] = [...BASE_FIELDS, ...(tier === 'minute' ? ['hw'] : [])];
  for (const group of stats) fields.push(...GROUP_FIELDS[group]);
  return Object.fromEntries(fields.map((f) => [f, 1]));
}

/**
 * The statistics of a tier document read with tierProjection: the groups left out keep their empty values
 * (emptyStats), which merge as nothing into the groups of any other statistics, so the groups read stay exact.
 */
function tierDocStats(doc: TierDoc, stats: ReadonlySet<StatGroup> | undefined): Stats {
  // One reading (`t`, `v`; no count) or every field read: the stored statistics whole.
  if (!('n' in doc) || !stats) return tierStats(doc);
  const s = emptyStats();
  s.n = Number(doc.n);
  if (stats.has('sum')) s.sum = Number(doc.sum);
  if (stats.has('range')) [s.min, s.max] = [Number(doc.min), Number(doc.max)];
  if (stats.has('first')) [s.ft, s.fv] = [new Date(doc.ft).getTime(), Number(doc.fv)];
  if (stats.has('last')) [s.lt, s.lv] = [new Date(doc.lt).getTime(), Number(doc.lv)];
  if (stats.has('variance')) [s.mean, s.m2] = [Number(doc.mean), Number(doc.m2)];
  if (stats.has('sketch')) {
    const q = doc.q as Uint8Array | { buffer: Uint8Array };
    s.sketch = QuantileSketch.decode(q instanceof Uint8Array ? q : q.buffer);
  }
  return s;
}

/**
 * Per bucket, days, hours and minutes lying whole inside it come from their tier, the partial minutes at its
 * edges from raw readings. A day or hour that may be stale (a dirty mark, or a slice not yet compacted into
 * it) is read from the next finer tier instead, so an answer is exact whatever compaction is doing: reads go
 * slices → marks → tier documents, the order in which compaction makes each step visible.
 */
@Injectable()
export class TierReader implements BucketStatsSource {
  constructor(
    private readonly store: TierStore,
    private readonly catalog: SeriesCatalogRepository,
    private readonly config: FunnelConfig,
    @Optional() @Inject(RAW_BUCKET_STATS) private readonly raw?: BucketStatsSource,
  ) {}

  async bucketStats(
    selector: SeriesSelector,
    bounds: readonly number[],
    limits: BucketReadLimits,
    now = Date.now(),
  ): Promise<SeriesBuckets[]> {
    if (bounds.length < 2) return [];
    const oldest = this.oldest(now);
    let slots = planSlots(bounds, oldest);
    const expiredRaw = slots.find((s) => s.source === 'raw' && s.from < oldest.raw);
    if (expiredRaw) throw new TierExpired('raw', human(retentionMs(this.config, 'raw')));

    const tiered = slots.filter((s) => s.source !== 'raw');
    // One span over every tiered slot (a loop: a spread of a large slot list would overflow the stack).
    let spanFrom = Infinity;
    let spanTo = -Infinity;
    for (const slot of tiered) {
      if (slot.from < spanFrom) spanFrom = slot.from;
      if (slot.to > spanTo) spanTo = slot.to;
    }
    // A slice document is keyed by its hour: the span is read from the start of its first hour.
    const sliceSpan = tiered.length > 0 ? [{ from: periodStart(spanFrom, 'hour'), to: spanTo }] : [];
    const slices = await this.store.selectedSlices(selector, sliceSpan, limits.maxTimeMS);
    const coarse = tiered.filter((s) => s.source === 'day' || s.source === 'hour');
    // Hour marks before day marks: a roll-up marks the day before it clears the hour's mark.
    const coarseRanges = fewRanges(rangesOf(coarse));
    const hourMarks = await this.store.selectedMarks(selector, 'hour', coarseRanges, limits.maxTimeMS);
    const dayMarks = await this.store.selectedMarks(selector, 'day', coarseRanges, limits.maxTimeMS);
    const marks = [...hourMarks, ...dayMarks];
    const stale = new Set<string>();
    for (const mark of marks) stale.add(`${mark.tier}:${mark.ts.getTime()}`);
    for (const s of slices) {
      stale.add(`hour:${periodStart(s.ts.getTime(), 'hour')}`);
      stale.add(`day:${periodStart(s.ts.getTime(), 'day')}`);
    }
    // A day with a stale hour inside is stale too: its hours are read (and the stale one demoted again).
    for (const key of [...stale]) {
      if (key.startsWith('hour:')) stale.add(`day:${periodStart(Number(key.slice(5)), 'day')}`);
    }
    slots = demote(slots, stale, oldest);

    const bySource = groupBy(slots, (s) => s.source);
    const byId = await this.idsToRead(selector, bySource, limits.maxTimeMS);
    const read = async (tier: Tier) => {
      const mine = bySource.get(tier) ?? [];
      if (mine.length === 0) return [];
      const ids = byId.get(tier);
      const projection = tierProjection(tier, limits.stats);
      if (ids) return [...(await this.store.byIds(tier, ids, limits.maxTimeMS, projection)).values()];
      return this.store.selected(tier, selector, fewRanges(rangesOf(mine)), limits.maxTimeMS, projection);
    };
    const [days, hours, minutes] = await Promise.all([read('day'), read('hour'), read('minute')]);
    const rawSlots = bySource.get('raw') ?? [];
    const rawParts = await this.readRaw(selector, rawSlots, limits);

    const result = new Map<string, SeriesBuckets>();
    const add = (
      series: { k: string; s: string; m: string; g?: Record<string, string> },
      stats: Stats,
      bucket: number,
    ) => {
      if (stats.n === 0) return;
      let entry = result.get(series.k);
      if (!entry) {
        entry = { series: { sensorId: series.s, metric: series.m, tags: series.g ?? {} }, buckets: new Map() };
        result.set(series.k, entry);
      }
      // `stats` is this read's own (made from one document or slice minute): a bucket's first is kept as it is,
      // not copied into empty statistics (a copy of its sketch each), and the next ones merge into it.
      const seen = entry.buckets.get(bucket);
      entry.buckets.set(bucket, seen ? mergeInto(seen, stats) : stats);
    };
    for (const [tier, docs] of [
      ['day', days],
      ['hour', hours],
      ['minute', minutes],
    ] as const) {
      const bucketOf = new Map((bySource.get(tier) ?? []).map((s) => [s.from, s.bucket]));
      // In one order whatever the server returned (time, then series): floating-point sums depend on the order
      // of their terms, and two reads of the same documents must give the same answer to the last digit.
      docs.sort(byTimeThenKey);
      for (const doc of docs) {
        const bucket = bucketOf.get(doc.ts.getTime());
        if (bucket !== undefined && storedCount(doc) !== 0) add(doc, tierDocStats(doc, limits.stats), bucket);
      }
    }
    // Slices not yet compacted count unless their minute document already holds them (high-water mark).
    const minuteBucket = new Map((bySource.get('minute') ?? []).map((s) => [s.from, s.bucket]));
    const minuteDocs = new Map(minutes.map((d) => [d._id, d]));
    slices.sort((a, b) => byTimeThenKey(a, b) || a.o - b.o);
    for (const slice of slices) {
      for (const minute of sliceMinutes(slice)) {
        const bucket = minuteBucket.get(minute.ts.getTime());
        if (bucket === undefined) continue;
        const holder = minuteDocs.get(`${slice.k}:${minute.ts.getTime()}`);
        if (holder && slice.oe <= (holder.hw?.[partitionKey(slice.t, slice.p)] ?? -1)) continue;
        add(slice, sliceMinuteStats(minute), bucket);
      }
    }
    rawParts.sort((a, b) => compareText(seriesOrder(a), seriesOrder(b)));
    for (const part of rawParts) {
      const key = JSON.stringify([part.series.sensorId, part.series.metric, part.series.tags]);
      let entry = result.get(key);
      if (!entry) {
        entry = { series: part.series, buckets: new Map() };
        result.set(key, entry);
      }
      for (const [bucket, stats] of part.buckets) {
        entry.buckets.set(bucket, mergeInto(entry.buckets.get(bucket) ?? emptyStats(), stats));
      }
    }
    return mergeSameSeries([...result.values()]).sort((a, b) => compareText(seriesOrder(a), seriesOrder(b)));
  }

  /** The catalog's series over [from, to): what a query is refused by before any tier is read. */
  catalogSeries(selector: SeriesSelector, from: number, to: number, maxTimeMS: number): AsyncIterable<SeriesId> {
    return this.catalog.overlapping(selector, from, to, maxTimeMS);
  }

  /**
   * On a server that uses only unique indexes (the stand-in), a tier read by series filter scans the whole
   * collection: there the documents are read by id (series key from the catalog, period start from the slots)
   * when there are few enough of them, which costs by the ids instead of by the collection. Undefined: scan.
   */
  private async idsToRead(
    selector: SeriesSelector,
    bySource: ReadonlyMap<Tier | 'raw', Slot[]>,
    maxTimeMS: number,
  ): Promise<Map<Tier, string[]>> {
    const plan = new Map<Tier, string[]>();
    if (!this.store.readsById) return plan;
    const budgets: Array<{ tier: Tier; slots: Slot[]; budget: number }> = [];
    for (const tier of ['day', 'hour', 'minute'] as const) {
      const slots = bySource.get(tier) ?? [];
      if (slots.length === 0) continue;
      const size = await this.store.estimatedCount(tier, maxTimeMS);
      const budget = Math.min(MAX_ID_READS, Math.max(ALWAYS_BY_ID, Math.floor(size / SCANNED_PER_ID)));
      if (slots.length <= budget) budgets.push({ tier, slots, budget });
    }
    if (budgets.length === 0) return plan;
    // As many series as the most generous tier could read by id: more, and every tier scans.
    const keys = await this.catalog.keys(
      selector,
      Math.max(...budgets.map((b) => Math.floor(b.budget / b.slots.length))),
      maxTimeMS,
    );
    if (!keys) return plan;
    for (const { tier, slots, budget } of budgets) {
      if (keys.length * slots.length > budget) continue;
      const ids: string[] = [];
      for (const k of keys) for (const slot of slots) ids.push(`${k}:${slot.from}`);
      plan.set(tier, ids);
    }
    return plan;
  }

  /** Per source, the first instant it still holds. */
  private oldest(now: number): Record<Tier | 'raw', number> {
    const cut = (tier: Tier | 'raw') => {
      const keep = retentionMs(this.config, tier);
      return keep === 0 ? -Infinity : now - keep;
    };
    return { raw: cut('raw'), minute: cut('minute'), hour: cut('hour'), day: cut('day') };
  }

  /** Raw parts, each contiguous run of raw slots one read with its own bounds. */
  private async readRaw(
    selector: SeriesSelector,
    slots: readonly Slot[],
    limits: BucketReadLimits,
  ): Promise<SeriesBuckets[]> {
    if (slots.length === 0) return [];
    if (!this.raw) throw new Error('no raw-readings source is configured for the parts no tier holds');
    const sorted = [...slots].sort((a, b) => a.from - b.from);
    const runs: Slot[][] = [];
    for (const s of sorted) {
      const run = runs[runs.length - 1];
      if (run && run[run.length - 1]!.to === s.from) run.push(s);
      else runs.push([s]);
    }
    const parts = await Promise.all(
      runs.map(async (run) => {
        const bounds = [...run.map((s) => s.from), run[run.length - 1]!.to];
        const answered = await this.raw!.bucketStats(selector, bounds, limits);
        // Re-index the run's buckets to the query's.
        return answered.map((sb) => ({
          series: sb.series,
          buckets: new Map([...sb.buckets].map(([i, stats]) => [run[i]!.bucket, stats])),
        }));
      }),
    );
    return parts.flat();
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byTimeThenKey(a: { ts: Date; k: string }, b: { ts: Date; k: string }): number {
  return a.ts.getTime() - b.ts.getTime() || compareText(a.k, b.k);
}

function seriesOrder(e: SeriesBuckets): string {
  return JSON.stringify([e.series.sensorId, e.series.metric, Object.entries(e.series.tags).sort()]);
}

/** Many scattered ranges become their span (the reader drops documents outside its slots). */
function fewRanges(ranges: Array<{ from: number; to: number }>): Array<{ from: number; to: number }> {
  if (ranges.length <= 32) return ranges;
  return [{ from: ranges[0]!.from, to: ranges[ranges.length - 1]!.to }];
}

/** Replaces stale day and hour slots by the next finer tier's periods (while that tier still holds them). */
function demote(slots: Slot[], stale: ReadonlySet<string>, oldest: Readonly<Record<Tier | 'raw', number>>): Slot[] {
  let current = slots;
  for (const tier of ['day', 'hour'] as const) {
    const finer = DEMOTE[tier];
    const next: Slot[] = [];
    for (const s of current) {
      if (s.source !== tier || !stale.has(`${tier}:${s.from}`) || s.from < oldest[finer]) {
        next.push(s);
        continue;
      }
      for (let start = s.from; start < s.to; start += TIER_MS[finer]) {
        next.push({ source: finer, from: start, to: start + TIER_MS[finer], bucket: s.bucket });
      }
    }
    current = next;
  }
  return current;
}

/** Tier documents carry a series key, raw parts a series identity: merge entries naming the same series. */
function mergeSameSeries(entries: SeriesBuckets[]): SeriesBuckets[] {
  const bySeries = new Map<string, SeriesBuckets>();
  for (const e of entries) {
    const key = JSON.stringify([e.series.sensorId, e.series.metric, Object.entries(e.series.tags).sort()]);
    const seen = bySeries.get(key);
    if (!seen) {
      bySeries.set(key, e);
      continue;
    }
    for (const [bucket, stats] of e.buckets) {
      seen.buckets.set(bucket, mergeInto(seen.buckets.get(bucket) ?? emptyStats(), stats));
    }
  }
  return [...bySeries.values()];
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
