// Compaction of committed slices into minute documents, and the roll-up of minutes into hours and hours into days.
import { Injectable } from '@nestjs/common';

import { FunnelConfig, parseRetentionMs } from '@funnel/config';

import { SeriesCatalogRepository, type CatalogUpdate } from './series-catalog.repository.js';
import type { SeriesFields } from './series-key.js';
import { emptyStats, mergeInto, type Stats } from './stats.js';
import {
  partitionKey,
  periodStart,
  sliceMinuteStats,
  sliceMinutes,
  storedTierStats,
  tierStats,
  TIER_MS,
  type DirtyMark,
  type SliceDoc,
  type StoredSliceMinute,
  type Tier,
  type TierDoc,
} from './tier.schema.js';
import { TierStore, writeToken } from './tier.store.js';

/** A point where a test can stop the worker (and SIGKILL it) between two steps that must survive a crash. */
export type HaltPoint = 'compaction-merged' | 'rollup-written' | 'rebuild-written';

/** Called at each halt point; resolves to carry on (the default) or never (a test halts there). */
export type HaltHook = (point: HaltPoint) => Promise<void>;

/** One partition's committed position: slices whose first offset is below `committed` are committed. */
export interface CommittedPartition {
  topic: string;
  partition: number;
  committed: number;
}

/** What a round did. */
export interface RoundResult {
  /** Slices, or marks, taken in (deleted or cleared). */
  done: number;
  /** Whether the round hit its limit: more work is waiting. */
  more: boolean;
}

const COARSER: Record<Tier, Exclude<Tier, 'minute'> | undefined> = { minute: 'hour', hour: 'day', day: undefined };
const FINER: Record<Exclude<Tier, 'minute'>, Tier> = { hour: 'minute', day: 'hour' };
/** Most finer-tier documents one roll-up round reads (what bounds the worker's memory in a long backfill). */
const FINER_DOCS_PER_ROUND = 12_000;
/** Series keys a compactor remembers having put in the catalog (22 characters each) before it starts over. */
const REGISTERED_KEPT = 100_000;

function seriesOf(d: SeriesFields): SeriesFields {
  return { k: d.k, s: d.s, m: d.m, g: d.g, ga: d.ga };
}

/** A dirty mark for the `tier` period holding `ts` of a series. */
export function markFor(tier: Exclude<Tier, 'minute'>, series: SeriesFields, ts: number): Omit<DirtyMark, 'w'> {
  const start = periodStart(ts, tier);
  return { _id: `${tier}:${series.k}:${start}`, tier, ...seriesOf(series), ts: new Date(start) };
}

/** A tier document of a series and period with the given statistics. */
export function tierDoc(series: SeriesFields, start: number, stats: Stats, hw?: Record<string, number>): TierDoc {
  return {
    _id: `${series.k}:${start}`,
    ...seriesOf(series),
    ts: new Date(start),
    ...storedTierStats(stats),
    ...(hw ? { hw } : {}),
    w: writeToken(),
  };
}

/**
 * Merges committed slices into one minute document per (series, minute), and recomputes hours and days marked
 * dirty. The invariant, kept at every step so a crash anywhere loses and double-counts nothing:
 *
 * - a reading is counted in exactly one of: a slice whose last offset is above its minute document's
 *   high-water mark for the slice's partition, or that minute document;
 * - an hour (day) document equals the merge of its minutes (hours) unless a dirty mark for it exists or a
 *   slice of it is still pending.
 *
 * A round: read the committed slices → per minute, merge those above the high-water mark and raise it
 * (compare-and-set) → mark the hour dirty → delete the slices. A crash before the write leaves the slices; after
 * it, they are at or below the mark and only deleted. Hours: read the mark → merge the minutes → compare-and-set
 * the hour → mark the day → clear the mark if unchanged. A crash leaves the mark, so the recompute runs again.
 */
@Injectable()
export class TierCompactor {
  constructor(
    private readonly store: TierStore,
    private readonly catalog: SeriesCatalogRepository,
    private readonly config: FunnelConfig,
  ) {}

  /** Series keys this process has put in the catalog (at most REGISTERED_KEPT, then forgotten). */
  private readonly registered = new Set<string>();

  /**
   * One compaction round over committed partitions: of each, the committed slices with the lowest offsets, at
   * most `limit` minutes of them and at least one slice (a slice holds the minutes of one hour, so a round
   * reads only the slices it merges and one more).
   */
  async compact(partitions: readonly CommittedPartition[], limit: number, halt?: HaltHook): Promise<RoundResult> {
    let done = 0;
    let more = false;
    for (const { topic, partition, committed } of partitions) {
      const taken = await this.store.committedSlices(topic, partition, committed, limit);
      if (taken.slices.length === 0) continue;
      more ||= taken.more;
      done += await this.compactSlices(taken.slices, halt);
    }
    return { done, more };
  }

  private async compactSlices(slices: SliceDoc[], halt?: HaltHook): Promise<number> {
    /** Per minute document id, the slice minutes that go into it, in the slices' offset order. */
    const groups = new Map<string, Array<{ slice: SliceDoc; minute: StoredSliceMinute }>>();
    for (const slice of slices) {
      for (const minute of sliceMinutes(slice)) {
        const id = `${slice.k}:${minute.ts.getTime()}`;
        const group = groups.get(id);
        if (group) group.push({ slice, minute });
        else groups.set(id, [{ slice, minute }]);
      }
    }
    const existing = await this.store.byIds('minute', [...groups.keys()]);
    const writes: Array<{ doc: TierDoc; expect?: string }> = [];
    /** What each written minute adds to its series' catalog entry (counted only if the write wins). */
    const added = new Map<string, CatalogUpdate>();
    for (const [id, group] of groups) {
      const before = existing.get(id);
      const stats = before ? tierStats(before) : emptyStats();
      const hw = { ...(before?.hw ?? {}) };
      const fresh = emptyStats();
      let merged = 0;
      for (const { slice, minute } of group) {
        const key = partitionKey(slice.t, slice.p);
        if (slice.oe <= (hw[key] ?? -1)) continue;
        mergeInto(fresh, sliceMinuteStats(minute));
        hw[key] = slice.oe;
        merged++;
      }
      // Every slice already counted (a crash after the write): nothing to write, the slices are only deleted.
      if (merged === 0) continue;
      mergeInto(stats, fresh);
      const { slice, minute } = group[0]!;
      writes.push({ doc: tierDoc(slice, minute.ts.getTime(), stats, hw), expect: before?.w });
      added.set(id, { series: seriesOf(slice), n: fresh.n, first: fresh.ft, last: fresh.lt });
    }
    await this.registerSeries([...added.values()]);
    const won = await this.store.compareAndSet('minute', writes);
    await this.catalog.record(catalogUpdates([...added].filter(([id, u]) => won.has(id) && u.n > 0).map(([, u]) => u)));
    await halt?.('compaction-merged');
    // A minute whose write lost a race keeps its slices: the next round merges them into the winner's version
    // (the minutes of those slices that were written are then at or below their high-water marks, and skipped).
    const written = new Set(writes.map((w) => w.doc._id));
    const lost = new Set([...groups.keys()].filter((id) => written.has(id) && !won.has(id)));
    const kept = new Set([...lost].flatMap((id) => groups.get(id)!.map(({ slice }) => slice._id)));
    const settled = [...groups].filter(([id]) => !lost.has(id));
    await this.store.mark(settled.map(([, group]) => markFor('hour', group[0]!.slice, group[0]!.minute.ts.getTime())));
    const ids = slices.filter((s) => !kept.has(s._id)).map((s) => s._id);
    await this.store.deleteSlices(ids);
    return ids.length;
  }

  /**
   * Puts the series of these minutes in the catalog before their documents are written (once per process and
   * series): a series with tier documents is always listed, whatever crashes, so readers by id find it.
   */
  async registerSeries(updates: readonly CatalogUpdate[]): Promise<void> {
    const unseen = catalogUpdates(updates.filter((u) => u.n > 0 && !this.registered.has(u.series.k)));
    if (unseen.length === 0) return;
    await this.catalog.register(unseen);
    if (this.registered.size + unseen.length > REGISTERED_KEPT) this.registered.clear();
    for (const u of unseen) this.registered.add(u.series.k);
  }

  /**
   * Recomputes up to `limit` dirty `tier` (hour or day) documents from the finer tier. A period the finer
   * tier no longer holds entirely (past its retention) keeps its document: the mark is only cleared.
   */
  async rollUp(tier: Exclude<Tier, 'minute'>, limit: number, now: number, halt?: HaltHook): Promise<RoundResult> {
    const finer = FINER[tier];
    const width = TIER_MS[tier];
    const step = TIER_MS[finer];
    const perPeriod = width / step;
    // Bounded by the finer documents a round reads, not only by marks: 5,000 hour marks are 300,000 minutes.
    const take = Math.max(1, Math.min(limit, Math.floor(FINER_DOCS_PER_ROUND / perPeriod)));
    const marks = await this.store.marksOf(tier, take);
    if (marks.length === 0) return { done: 0, more: false };
    const keep = retentionMs(this.config, finer);
    const live = marks.filter((m) => keep === 0 || m.ts.getTime() >= now - keep);
    // A finer document's id is its series key and period start, so the parts of each period are read by id: the
    // unique index on every server, and exactly the periods marked (a late minute of March does not read April).
    const finerIds = live.flatMap((m) =>
      Array.from({ length: perPeriod }, (_, i) => `${m.k}:${m.ts.getTime() + i * step}`),
    );
    const [parts, existing] = await Promise.all([
      this.store.byIds(finer, finerIds),
      this.store.byIds(
        tier,
        live.map((m) => `${m.k}:${m.ts.getTime()}`),
      ),
    ]);
    const byPeriod = new Map<string, Stats>();
    for (const part of parts.values()) {
      const id = `${part.k}:${periodStart(part.ts.getTime(), tier)}`;
      byPeriod.set(id, mergeInto(byPeriod.get(id) ?? emptyStats(), tierStats(part)));
    }
    const writes = live.map((m) => {
      const id = `${m.k}:${m.ts.getTime()}`;
      return { doc: tierDoc(m, m.ts.getTime(), byPeriod.get(id) ?? emptyStats()), expect: existing.get(id)?.w };
    });
    const won = await this.store.compareAndSet(tier, writes);
    await halt?.('rollup-written');
    const coarser = COARSER[tier];
    const written = live.filter((m) => won.has(`${m.k}:${m.ts.getTime()}`));
    if (coarser) await this.store.mark(written.map((m) => markFor(coarser, m, m.ts.getTime())));
    const expired = marks.filter((m) => !live.includes(m));
    await this.store.clearMarks([...written, ...expired]);
    return { done: written.length + expired.length, more: marks.length >= take };
  }
}

/** Catalog updates summed per series. */
function catalogUpdates(updates: readonly CatalogUpdate[]): CatalogUpdate[] {
  const bySeries = new Map<string, CatalogUpdate>();
  for (const u of updates) {
    const seen = bySeries.get(u.series.k);
    if (!seen) {
      bySeries.set(u.series.k, { ...u });
      continue;
    }
    seen.n += u.n;
    seen.first = Math.min(seen.first, u.first);
    seen.last = Math.max(seen.last, u.last);
  }
  return [...bySeries.values()];
}

/** The retention of a tier in ms (0: kept forever). */
export function retentionMs(config: FunnelConfig, tier: Tier | 'raw'): number {
  const byTier = {
    raw: config.RETENTION_RAW,
    minute: config.RETENTION_MINUTE,
    hour: config.RETENTION_HOUR,
    day: config.RETENTION_DAY,
  };
  return parseRetentionMs(byTier[tier]) ?? 0;
}
