// Recomputes the minute tier of a range from the raw readings (then its hours and days), safely beside a worker.
import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import type { Connection, Document } from 'mongoose';

import { FunnelConfig } from '@funnel/config';

import { orUnavailable } from '../storage-errors.js';
import { seriesFields, seriesIdentity, type SeriesFields } from './series-key.js';
import { addReading, emptyStats, type Stats } from './stats.js';
import { tierDoc, TierCompactor, type HaltHook } from './tier.compactor.js';
import { HOUR_MS, MINUTE_MS, partitionKey, type TierDoc } from './tier.schema.js';
import { TierStore } from './tier.store.js';

/** Committed offsets (next offset to consume) of every partition of the topic; -1 for none committed yet. */
export type CommittedOffsets = () => Promise<Map<number, number>>;

/** What a rebuild covers. */
export interface RebuildRequest {
  from: number;
  to: number;
  sensorId?: string;
  committed: CommittedOffsets;
  /** Called after each hour of the range: hours done, hours in all. */
  progress?: (done: number, total: number) => void;
  halt?: HaltHook;
}

/** What a rebuild did. */
export interface RebuildResult {
  hours: number;
  minutes: number;
  readings: number;
  retries: number;
}

const MAX_RETRIES = 20;

/**
 * A rebuilt minute counts the raw readings stored from records below the group's committed offset of their
 * partition (and readings without a source, stored by versions before sources), and raises its high-water
 * mark of every partition to that offset minus one, so compaction skips the committed slices it already
 * counts and still merges everything later. It replaces a minute only while the minute's marks are at or below
 * those offsets (compare-and-set); when compaction got further first, the hour is read again with newer
 * offsets. Then the hours are marked dirty and rolled up, and the days after them.
 */
@Injectable()
export class TierRebuild {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    private readonly store: TierStore,
    private readonly compactor: TierCompactor,
    private readonly config: FunnelConfig,
  ) {}

  async rebuild(request: RebuildRequest): Promise<RebuildResult> {
    const from = request.from - (request.from % MINUTE_MS);
    const to = Math.ceil(request.to / MINUTE_MS) * MINUTE_MS;
    const total = Math.ceil((to - from) / HOUR_MS);
    const result: RebuildResult = { hours: 0, minutes: 0, readings: 0, retries: 0 };
    for (let start = from; start < to; start += HOUR_MS) {
      const end = Math.min(to, start + HOUR_MS);
      for (let attempt = 0; ; attempt++) {
        const done = await this.rebuildRange(start, end, request);
        if (done) {
          result.minutes += done.minutes;
          result.readings += done.readings;
          break;
        }
        result.retries++;
        if (attempt >= MAX_RETRIES)
          throw new Error(`minutes of ${new Date(start).toISOString()} kept changing; retry later`);
      }
      result.hours++;
      request.progress?.(result.hours, total);
    }
    // The hours and days of the range, at once (the worker would do it within a few rounds).
    for (const tier of ['hour', 'day'] as const) {
      for (;;) {
        const round = await this.compactor.rollUp(tier, this.config.COMPACTION_BATCH, Date.now());
        if (!round.more) break;
      }
    }
    return result;
  }

  /** One range; undefined when a minute changed under it (compaction got further), to be read again. */
  private async rebuildRange(
    from: number,
    to: number,
    request: RebuildRequest,
  ): Promise<{ minutes: number; readings: number } | undefined> {
    const committed = await request.committed();
    const topic = this.config.KAFKA_TOPIC;
    const hw: Record<string, number> = {};
    for (const [partition, offset] of committed) hw[partitionKey(topic, partition)] = offset - 1;

    const perMinute = new Map<string, { series: SeriesFields; minute: number; stats: Stats }>();
    const seriesCache = new Map<string, SeriesFields>();
    let readings = 0;
    const filter: Record<string, unknown> = { ts: { $gte: new Date(from), $lt: new Date(to) } };
    if (request.sensorId) filter['meta.sensorId'] = request.sensorId;
    const cursor = this.connection.db!.collection(this.config.MONGODB_COLLECTION).find(filter, {
      projection: { _id: 0, ts: 1, value: 1, meta: 1, src: 1 },
    });
    for await (const doc of cursor as AsyncIterable<Document & Record<string, unknown>>) {
      if (!countedBelow(doc.src, committed)) continue;
      const meta = doc.meta as { sensorId: string; metric: string; tags?: Record<string, string> };
      const identity = seriesIdentity(meta.sensorId, meta.metric, meta.tags);
      let series = seriesCache.get(identity);
      if (!series) {
        series = seriesFields(meta.sensorId, meta.metric, meta.tags);
        seriesCache.set(identity, series);
      }
      const ts = (doc.ts as Date).getTime();
      const minute = ts - (ts % MINUTE_MS);
      const id = `${series.k}:${minute}`;
      let entry = perMinute.get(id);
      if (!entry) {
        entry = { series, minute, stats: emptyStats() };
        perMinute.set(id, entry);
      }
      addReading(entry.stats, ts, Number(doc.value));
      readings++;
    }

    // Minutes stored for the range (of the sensor): those without readings below the offsets become empty.
    const storedFilter: Record<string, unknown> = { ts: { $gte: new Date(from), $lt: new Date(to) } };
    if (request.sensorId) storedFilter.s = request.sensorId;
    const stored = await orUnavailable(() => this.store.tier('minute').find(storedFilter).toArray());
    const existing = new Map(stored.map((d) => [d._id, d]));
    for (const d of stored) {
      if (!perMinute.has(d._id)) perMinute.set(d._id, { series: d, minute: d.ts.getTime(), stats: emptyStats() });
    }
    const writes: Array<{ doc: TierDoc; expect?: string }> = [];
    for (const [id, { series, minute, stats }] of perMinute) {
      const before = existing.get(id);
      // Compaction merged slices above the offsets read: this range is read again with newer ones.
      if (before && Object.entries(before.hw ?? {}).some(([key, mark]) => mark > (hw[key] ?? -1))) return undefined;
      writes.push({ doc: tierDoc(series, minute, stats, { ...(before?.hw ?? {}), ...hw }), expect: before?.w });
    }
    // A database written before the catalog existed gets its series listed (their counts stay compaction's).
    await this.compactor.registerSeries(
      [...perMinute.values()].map(({ series, stats }) => ({ series, n: stats.n, first: stats.ft, last: stats.lt })),
    );
    const won = await this.store.compareAndSet('minute', writes);
    await request.halt?.('rebuild-written');
    await this.store.mark(
      writes
        .filter((w) => won.has(w.doc._id))
        .map(({ doc }) => ({
          _id: `hour:${doc.k}:${doc.ts.getTime() - (doc.ts.getTime() % HOUR_MS)}`,
          tier: 'hour' as const,
          k: doc.k,
          s: doc.s,
          m: doc.m,
          g: doc.g,
          ga: doc.ga,
          ts: new Date(doc.ts.getTime() - (doc.ts.getTime() % HOUR_MS)),
        })),
    );
    if (won.size < writes.length) return undefined;
    return { minutes: writes.length, readings };
  }
}

/** Whether a reading with source `src` (`<partition>:<offset>`) lies below its partition's committed offset. */
function countedBelow(src: unknown, committed: ReadonlyMap<number, number>): boolean {
  if (typeof src !== 'string') return true;
  const colon = src.indexOf(':');
  const partition = Number(src.slice(0, colon));
  const offset = Number(src.slice(colon + 1));
  return offset < (committed.get(partition) ?? -1);
}
