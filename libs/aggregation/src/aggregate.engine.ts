/** The one query engine behind GET /v1/aggregates and GET /v2/aggregates: bucket edges, merge per group, fill. */
import { Inject, Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import {
  emptyStats,
  mergeInto,
  RawScanTooLarge,
  ReadTimedOut,
  TierExpired,
  type BucketStatsSource,
  type Stats,
} from '@funnel/storage';

import type { AggregateQuery } from './aggregates-v2.query.js';
import { bucketEdges, BucketOutOfRange, TooManyBucketEdges } from './calendar.js';
import { fillBuckets, type BucketValues } from './fill.js';
import { computeFn, statsNeeded } from './functions.js';
import { compareKeys, groupKeyOf, type GroupKey } from './grouping.js';
import { canonicalKey, QueryCoalescer } from './query-coalescer.js';
import { QueryGate, timedOut } from './query-gate.js';
import { EmptyRange, QueryRejected, RangeOutsideDates, TooManyPoints, TooManySeries } from './query-rejected.js';

/** Where bucket statistics come from: the raw readings today, the rollup tiers once they are wired. */
export const BUCKET_STATS_SOURCE = Symbol('BUCKET_STATS_SOURCE');

/**
 * One series of an answer: its group key and its buckets (start in epoch ms, values by function name). Read-only:
 * identical queries in flight share one answer (QueryCoalescer), so no caller may change it.
 */
export interface AnsweredSeries {
  readonly key: Readonly<GroupKey>;
  readonly buckets: ReadonlyArray<{ readonly start: number; readonly values: Readonly<BucketValues> }>;
}

/** Limits of one run; v1 passes its own bucket limit. */
export interface EngineLimits {
  maxPoints: number;
  pointsSetting: string;
}

/** A raw scan refused for its size, as a 400. */
export class RawScanRefused extends QueryRejected {
  constructor(cause: RawScanTooLarge) {
    // The count stops at limit + 1 (so counting stays cheap): say "more than the limit", never a total it did not count.
    super(
      `the query would scan more than ${cause.limit} raw readings: ask for a window of whole minutes so the rollups ` +
        'answer it, a shorter range, or fewer series (MAX_RAW_READINGS_PER_QUERY)',
    );
    this.name = 'RawScanRefused';
  }
}

/** A range older than what the tiers it needs keep, as a 400. */
export class RangeExpired extends QueryRejected {
  constructor(cause: TierExpired) {
    super(cause.message);
    this.name = 'RangeExpired';
  }
}

@Injectable()
export class AggregateEngine {
  constructor(
    @Inject(BUCKET_STATS_SOURCE) private readonly source: BucketStatsSource,
    private readonly gate: QueryGate,
    private readonly config: FunnelConfig,
    private readonly coalescer: QueryCoalescer,
  ) {}

  /**
   * Answers a parsed query; throws QueryRejected (400) for a query that cannot be answered as asked, before any
   * read where the reason is known up front, and QueryUnavailable (503) when busy or out of time. A query identical
   * to one in flight (every field and limit) shares its run and its answer, which is therefore read-only. `signal`
   * (the client went away) rejects this caller; the run leaves the queue once every caller sharing it has gone.
   */
  run(query: AggregateQuery, limits?: EngineLimits, signal?: AbortSignal): Promise<readonly AnsweredSeries[]> {
    const resolved = limits ?? { maxPoints: this.config.MAX_POINTS_PER_QUERY, pointsSetting: 'MAX_POINTS_PER_QUERY' };
    // The whole query and the limits, not a chosen few fields: a field added later cannot be left out of the key.
    const key = canonicalKey({ query, limits: resolved });
    return this.coalescer.run(key, (shared) => this.answer(query, resolved, shared), signal);
  }

  private async answer(
    query: AggregateQuery,
    { maxPoints, pointsSetting }: EngineLimits,
    signal?: AbortSignal,
  ): Promise<AnsweredSeries[]> {
    const { from, to } = query;
    if (from >= to) throw new EmptyRange(new Date(from).toISOString(), new Date(to).toISOString());
    const edges = this.edges(query, maxPoints, pointsSetting);
    const buckets = edges.length - 1;
    // Only readings inside [from, to) count: the first and last buckets are cut at from and to.
    const bounds = [from, ...edges.slice(1, -1), to];
    const read = await this.gate.run(async (deadline) => {
      try {
        await this.refuseOverLimits(query, buckets, { maxPoints, pointsSetting }, deadline);
        return await this.source.bucketStats(query.selector, bounds, {
          maxTimeMS: Math.max(1, deadline - Date.now()),
          maxRawReadings: this.config.MAX_RAW_READINGS_PER_QUERY,
          stats: statsNeeded(query.fns),
        });
      } catch (error) {
        if (error instanceof RawScanTooLarge) throw new RawScanRefused(error);
        if (error instanceof ReadTimedOut) throw timedOut(this.config.QUERY_TIMEOUT_MS);
        if (error instanceof TierExpired) throw new RangeExpired(error);
        throw error;
      }
    }, signal);

    const groups = new Map<string, { key: GroupKey; stats: Map<number, Stats> }>();
    for (const { series, buckets: perBucket } of read) {
      const key = groupKeyOf(series, query.groupBy);
      const id = JSON.stringify(query.groupBy.map((f) => key[f]));
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { key, stats: new Map() }));
      for (const [i, stats] of perBucket) {
        let merged = group.stats.get(i);
        if (!merged) group.stats.set(i, (merged = emptyStats()));
        mergeInto(merged, stats);
      }
    }
    if (groups.size > this.config.MAX_SERIES_PER_QUERY) {
      throw new TooManySeries(groups.size, this.config.MAX_SERIES_PER_QUERY);
    }
    if (groups.size * buckets > maxPoints) throw new TooManyPoints(groups.size * buckets, maxPoints, pointsSetting);

    const names = query.fns.map((fn) => fn.name);
    return [...groups.values()]
      .sort((a, b) => compareKeys(a.key, b.key, query.groupBy))
      .map(({ key, stats }) => {
        const slots = edges.slice(0, -1).map((start, i) => {
          const s = stats.get(i);
          return {
            start,
            values: s && s.n > 0 ? Object.fromEntries(query.fns.map((fn) => [fn.name, computeFn(fn, s)])) : undefined,
          };
        });
        return { key, buckets: fillBuckets(slots, names, query.fill) };
      });
  }

  /**
   * Refuses a query over MAX_SERIES_PER_QUERY or the points limit before any tier is read: its groups counted
   * over the catalog's series whose readings span overlaps the range (a series with a gap over the whole range
   * counts too), stopping as soon as there are too many. The same limits are checked again on what was read
   * (a series not yet in the catalog, a source without one).
   */
  private async refuseOverLimits(
    query: AggregateQuery,
    buckets: number,
    { maxPoints, pointsSetting }: EngineLimits,
    deadline: number,
  ): Promise<void> {
    if (!this.source.catalogSeries || query.groupBy.length === 0) return;
    const limit = Math.min(this.config.MAX_SERIES_PER_QUERY, Math.floor(maxPoints / buckets));
    const groups = new Set<string>();
    let stopped = false;
    const series = this.source.catalogSeries(query.selector, query.from, query.to, Math.max(1, deadline - Date.now()));
    for await (const one of series) {
      const key = groupKeyOf(one, query.groupBy);
      groups.add(JSON.stringify(query.groupBy.map((f) => key[f])));
      if (groups.size > limit) {
        stopped = true;
        break;
      }
    }
    if (groups.size > this.config.MAX_SERIES_PER_QUERY) {
      throw new TooManySeries(groups.size, this.config.MAX_SERIES_PER_QUERY, stopped);
    }
    if (groups.size * buckets > maxPoints) {
      throw new TooManyPoints(groups.size * buckets, maxPoints, pointsSetting, stopped);
    }
  }

  private edges(query: AggregateQuery, maxPoints: number, pointsSetting: string): number[] {
    try {
      return bucketEdges(query.from, query.to, query.window, query.tz, maxPoints);
    } catch (error) {
      if (error instanceof TooManyBucketEdges) throw new TooManyPoints(error.atLeast, maxPoints, pointsSetting);
      if (error instanceof BucketOutOfRange) throw new RangeOutsideDates();
      throw error;
    }
  }
}
