// The roll-up's bound: a long backfill marks thousands of hours at once, and one round must read only a bounded
// number of finer documents (a worker with a 192 MB heap ran out of memory reading 300,000 minutes in one round).
import { describe, expect, it } from '@jest/globals';

import type { FunnelConfig } from '@funnel/config';

import type { CatalogUpdate, SeriesCatalogRepository } from './series-catalog.repository.js';
import { seriesFields } from './series-key.js';
import { addReading, emptyStats, statsOf, toStored } from './stats.js';
import { markFor, tierDoc, TierCompactor } from './tier.compactor.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  sliceMinuteStats,
  storedSliceMinute,
  takeWithinMinutes,
  tierStats,
  type DirtyMark,
  type SliceDoc,
  type SliceTake,
  type Tier,
  type TierDoc,
} from './tier.schema.js';
import { writeToken, type TierStore } from './tier.store.js';

/** The part of TierStore a roll-up uses, in memory, recording how many documents each read returned. */
class MemoryTiers {
  readonly docs: Record<Tier, Map<string, TierDoc>> = { minute: new Map(), hour: new Map(), day: new Map() };
  readonly dirty = new Map<string, DirtyMark>();
  readonly slices = new Map<string, SliceDoc>();
  /** Called before each compare-and-set: a test lets another writer win a race there. */
  beforeSet?: (tier: Tier, ids: readonly string[]) => void;
  /** Finer documents returned per byIds call. */
  readonly reads: number[] = [];
  private token = 0;

  async byIds(tier: Tier, ids: readonly string[]): Promise<Map<string, TierDoc>> {
    const found = ids.flatMap((id) => {
      const doc = this.docs[tier].get(id);
      return doc ? [[id, doc] as const] : [];
    });
    this.reads.push(found.length);
    return new Map(found);
  }

  async marksOf(tier: DirtyMark['tier'], limit: number): Promise<DirtyMark[]> {
    return [...this.dirty.values()]
      .filter((m) => m.tier === tier)
      .sort((a, b) => a.ts.getTime() - b.ts.getTime())
      .slice(0, limit);
  }

  async committedSlices(topic: string, partition: number, below: number, maxMinutes: number): Promise<SliceTake> {
    const committed = [...this.slices.values()]
      .filter((s) => s.t === topic && s.p === partition && s.o < below)
      .sort((a, b) => a.o - b.o);
    return takeWithinMinutes(committed, maxMinutes);
  }

  async deleteSlices(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.slices.delete(id);
  }

  async compareAndSet(tier: Tier, items: ReadonlyArray<{ doc: TierDoc; expect?: string }>): Promise<Set<string>> {
    this.beforeSet?.(
      tier,
      items.map((i) => i.doc._id),
    );
    const won = new Set<string>();
    for (const { doc, expect } of items) {
      if (this.docs[tier].get(doc._id)?.w !== expect) continue;
      this.docs[tier].set(doc._id, doc);
      won.add(doc._id);
    }
    return won;
  }

  async mark(marks: ReadonlyArray<Omit<DirtyMark, 'w'>>): Promise<void> {
    for (const m of marks) this.dirty.set(m._id, { ...m, w: String(++this.token) });
  }

  async clearMarks(marks: ReadonlyArray<Pick<DirtyMark, '_id' | 'w'>>): Promise<void> {
    for (const m of marks) if (this.dirty.get(m._id)?.w === m.w) this.dirty.delete(m._id);
  }
}

const forever = {
  RETENTION_RAW: 'forever',
  RETENTION_MINUTE: 'forever',
  RETENTION_HOUR: 'forever',
  RETENTION_DAY: 'forever',
};

describe('TierCompactor.rollUp', () => {
  it('reads a bounded number of finer documents per round, and the hours and days still sum every minute', async () => {
    const store = new MemoryTiers();
    const compactor = new TierCompactor(
      store as unknown as TierStore,
      {} as SeriesCatalogRepository,
      forever as unknown as FunnelConfig,
    );
    const series = seriesFields('s-1', 'temp', { site: 'a' });
    // 20 days of one reading a minute, every hour marked: the shape of a year's backfill, smaller.
    const from = Date.UTC(2026, 0, 1);
    const minutes = 20 * 1440;
    let total = 0;
    for (let i = 0; i < minutes; i++) {
      const ts = from + i * MINUTE_MS;
      const stats = emptyStats();
      addReading(stats, ts + 1000, i % 7);
      total += i % 7;
      store.docs.minute.set(`${series.k}:${ts}`, tierDoc(series, ts, stats, {}));
      if (i % 60 === 0) await store.mark([markFor('hour', series, ts)]);
    }
    let hourRounds = 0;
    for (;;) {
      hourRounds++;
      const round = await compactor.rollUp('hour', 5000, Date.now());
      if (!round.more) break;
    }
    for (;;) if (!(await compactor.rollUp('day', 5000, Date.now())).more) break;

    // Each round's read is bounded (5,000 marks would have read all 28,800 minutes at once).
    const biggest = Math.max(...store.reads);
    expect(biggest).toBeLessThanOrEqual(12_000);
    expect(hourRounds).toBeGreaterThan(1);
    expect(store.dirty.size).toBe(0);
    expect(store.docs.hour.size).toBe(20 * 24);
    expect(store.docs.day.size).toBe(20);
    const sumOf = (tier: Tier) => [...store.docs[tier].values()].reduce((s, d) => s + tierStats(d).sum, 0);
    const countOf = (tier: Tier) => [...store.docs[tier].values()].reduce((s, d) => s + tierStats(d).n, 0);
    expect(countOf('hour')).toBe(minutes);
    expect(countOf('day')).toBe(minutes);
    expect(sumOf('day')).toBe(total);
    // Each day holds exactly its own 1,440 minutes (reading by id never takes a neighbour's).
    for (const day of store.docs.day.values()) {
      expect(tierStats(day).n).toBe(1440);
      expect(day.ts.getTime() % DAY_MS).toBe(0);
    }
    for (const hour of store.docs.hour.values()) expect(hour.ts.getTime() % HOUR_MS).toBe(0);
  });
});

describe('TierCompactor.compact', () => {
  const T = 'funnel.points';
  const series = seriesFields('s-1', 'temp');
  const from = Date.UTC(2026, 0, 1);

  /** Slices of one partition, `batches` of them, each holding `perBatch` minutes of one reading each (offset = minute index). */
  function sparseSlices(store: MemoryTiers, batches: number, perBatch: number): number[] {
    const values: number[] = [];
    for (let b = 0; b < batches; b++) {
      const byHour = new Map<number, SliceDoc>();
      for (let i = b * perBatch; i < (b + 1) * perBatch; i++) {
        const minute = from + i * MINUTE_MS;
        const hour = minute - (minute % HOUR_MS);
        let slice = byHour.get(hour);
        if (!slice) {
          slice = {
            _id: `${T}:0:${b * perBatch}:${series.k}:${hour}`,
            ...series,
            t: T,
            p: 0,
            o: b * perBatch,
            oe: (b + 1) * perBatch - 1,
            ts: new Date(hour),
            mins: [],
          };
          byHour.set(hour, slice);
        }
        const value = (i * 7) % 11;
        values.push(value);
        const stats = statsOf([{ ts: minute + 500, value }]);
        // Both stored forms of a one-reading minute: its time and value (as flushes write it), or full statistics
        // (as slices written before that form hold it).
        slice.mins.push(i % 2 === 0 ? storedSliceMinute(minute, stats) : { ts: new Date(minute), ...toStored(stats) });
      }
      for (const slice of byHour.values()) store.slices.set(slice._id, slice);
    }
    return values;
  }

  function compactorOf(store: MemoryTiers): TierCompactor {
    const catalog = {
      record: async () => undefined,
      register: async () => undefined,
    } as unknown as SeriesCatalogRepository;
    return new TierCompactor(store as unknown as TierStore, catalog, forever as unknown as FunnelConfig);
  }

  it('merges hour slices minute by minute, at most `limit` minutes a round, each reading counted once', async () => {
    const store = new MemoryTiers();
    // 10 batches of 300 minutes each: 5 hours a batch, 50 slice documents, 3,000 minutes.
    const values = sparseSlices(store, 10, 300);
    expect(store.slices.size).toBe(50);
    const compactor = compactorOf(store);
    let rounds = 0;
    for (;;) {
      rounds++;
      const round = await compactor.compact([{ topic: T, partition: 0, committed: 3000 }], 500);
      if (!round.more) break;
    }
    // 500 minutes a round: at least 6 rounds for 3,000 minutes, and no round read more than 500 minute docs.
    expect(rounds).toBeGreaterThanOrEqual(6);
    expect(Math.max(...store.reads)).toBeLessThanOrEqual(500);
    expect(store.slices.size).toBe(0);
    expect(store.docs.minute.size).toBe(3000);
    const minutes = [...store.docs.minute.values()].sort((a, b) => a.ts.getTime() - b.ts.getTime());
    expect(minutes.map((d) => [tierStats(d).n, tierStats(d).sum])).toEqual(values.map((v) => [1, v]));
    // A minute of one reading is stored as its time and value.
    expect(minutes.every((d) => !('n' in d) && 'v' in d)).toBe(true);
    // Every hour the minutes touch is marked for its roll-up.
    expect([...store.dirty.values()].filter((m) => m.tier === 'hour').length).toBe(50);
  });

  it('lists a series in the catalog before its first minute is written, even when the write then fails', async () => {
    const store = new MemoryTiers();
    sparseSlices(store, 1, 120);
    const events: string[] = [];
    const listed = new Map<string, CatalogUpdate>();
    const catalog = {
      register: async (updates: readonly CatalogUpdate[]) => {
        events.push('register');
        for (const u of updates) listed.set(u.series.k, u);
      },
      record: async () => void events.push('record'),
    } as unknown as SeriesCatalogRepository;
    const compactor = new TierCompactor(store as unknown as TierStore, catalog, forever as unknown as FunnelConfig);
    store.beforeSet = (tier) => {
      events.push(`set:${tier}`);
      throw new Error('killed before the write');
    };
    await expect(compactor.compact([{ topic: T, partition: 0, committed: 120 }], 5000)).rejects.toThrow('killed');
    // Listed with the readings' first and last time; nothing counted, nothing written.
    expect(events).toEqual(['register', 'set:minute']);
    expect([...listed.values()].map((u) => [u.series.s, u.first, u.last])).toEqual([
      [series.s, from + 500, from + 119 * MINUTE_MS + 500],
    ]);
    expect(store.docs.minute.size).toBe(0);
    // The next round writes and counts; this process registered the series already, so it does not again.
    store.beforeSet = undefined;
    await compactor.compact([{ topic: T, partition: 0, committed: 120 }], 5000);
    expect(events.slice(2)).toEqual(['record']);
    expect(store.docs.minute.size).toBe(120);
  });

  it('keeps a slice whose minute lost a race, and the next round counts only what is left', async () => {
    const store = new MemoryTiers();
    const values = sparseSlices(store, 1, 120);
    const compactor = compactorOf(store);
    const target = `${series.k}:${from + 70 * MINUTE_MS}`;
    let raced = false;
    store.beforeSet = (tier, ids) => {
      if (raced || tier !== 'minute' || !ids.includes(target)) return;
      // Another writer (a rebuild) wrote minute 70 first: this round's write of it is refused.
      raced = true;
      store.docs.minute.set(target, tierDoc(series, from + 70 * MINUTE_MS, statsOf([]), {}));
    };
    await compactor.compact([{ topic: T, partition: 0, committed: 120 }], 5000);
    // The hour holding minute 70 stays; the first hour's slice is gone.
    expect([...store.slices.values()].map((s) => s.ts.getTime())).toEqual([from + HOUR_MS]);
    await compactor.compact([{ topic: T, partition: 0, committed: 120 }], 5000);
    expect(store.slices.size).toBe(0);
    const minutes = [...store.docs.minute.values()].sort((a, b) => a.ts.getTime() - b.ts.getTime());
    expect(minutes.map((d) => [tierStats(d).n, tierStats(d).sum])).toEqual(values.map((v) => [1, v]));
    // A minute of one reading is stored as its time and value.
    expect(minutes.every((d) => !('n' in d) && 'v' in d)).toBe(true);
  });
});

describe('takeWithinMinutes', () => {
  const series = seriesFields('s-1', 'temp');
  const from = Date.UTC(2026, 0, 1);

  /** Hour-long slices of 60 one-reading minutes, counting how many the consumer pulled. */
  function* hourSlices(count: number, pulled: { n: number }): Generator<SliceDoc> {
    for (let h = 0; h < count; h++) {
      pulled.n++;
      const hour = from + h * HOUR_MS;
      const mins = Array.from({ length: 60 }, (_, i) => ({
        ts: new Date(hour + i * MINUTE_MS),
        ...toStored(statsOf([{ ts: hour + i * MINUTE_MS, value: i }])),
      }));
      yield {
        _id: `t:0:${h * 60}:${series.k}:${hour}`,
        ...series,
        t: 't',
        p: 0,
        o: h * 60,
        oe: h * 60 + 59,
        ts: new Date(hour),
        mins,
      };
    }
  }

  it('pulls only the slices that fit and one more, however long the backlog (a year of hour slices)', async () => {
    const pulled = { n: 0 };
    // 8,760 hour slices (525,600 minutes): a 5,000-minute round takes 83 slices and pulls the 84th only.
    const taken = await takeWithinMinutes(hourSlices(8760, pulled), 5000);
    expect(taken.slices.length).toBe(Math.floor(5000 / 60));
    expect(taken.more).toBe(true);
    expect(pulled.n).toBe(Math.floor(5000 / 60) + 1);
  });

  it('takes one slice even when it alone holds more than the limit, and says when nothing is left', async () => {
    const pulled = { n: 0 };
    expect((await takeWithinMinutes(hourSlices(1, pulled), 10)).slices.length).toBe(1);
    const all = await takeWithinMinutes(hourSlices(3, pulled), 500);
    expect([all.slices.length, all.more]).toEqual([3, false]);
  });
});

describe('stored slice minutes', () => {
  const start = Date.UTC(2026, 2, 29, 1, 0);

  it('stores a one-reading minute as its time and value, and reads back the statistics of that reading', () => {
    const one = statsOf([{ ts: start + 1234, value: -0.5 }]);
    const stored = storedSliceMinute(start, one);
    expect(stored).toEqual({ ts: new Date(start), t: new Date(start + 1234), v: -0.5 });
    const back = sliceMinuteStats(stored);
    expect({ ...back, sketch: undefined }).toEqual({ ...one, sketch: undefined });
    expect(back.sketch.encode()).toEqual(one.sketch.encode());
  });

  it('stores a minute of several readings with full statistics', () => {
    const readings = [0, 1, 2, 3].map((i) => ({ ts: start + i * 1000, value: i * 1.5 }));
    const stored = storedSliceMinute(start, statsOf(readings));
    expect('n' in stored && stored.n).toBe(4);
    const back = sliceMinuteStats(stored);
    expect([back.n, back.sum, back.min, back.max, back.fv, back.lv]).toEqual([4, 9, 0, 4.5, 0, 4.5]);
  });
});

describe('writeToken', () => {
  it('never repeats within a process, and is short', () => {
    const tokens = Array.from({ length: 100_000 }, () => writeToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(Math.max(...tokens.map((t) => t.length))).toBeLessThanOrEqual(16);
  });
});
