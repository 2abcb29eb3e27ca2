// Unit tests of the write plan: what a batch inserts, which ids it checks and what its rollups count.
import { describe, expect, it } from '@jest/globals';

import { readingKey, type WirePoint } from '@funnel/contracts';
import { seriesFields, sliceMinuteStats, statsOf, storedSliceMinute, type StoredCopy } from '@funnel/storage';

import {
  ID_CHECK_CHUNK,
  ID_CHECK_NARROW_CHUNK,
  ID_CHECK_NARROW_MS,
  idCheckChunks,
  planWrite,
  pointsToCheck,
  sourceOf,
  type PlannedRecord,
} from './write-plan.js';

const T = 'funnel.points';
/** The series key of sensor s, metric m, no tags. */
const K = seriesFields('s', 'm').k;
const MINUTE = 60_000;

function pt(id: string, value: number, ts: number, sensorId = 's', metric = 'm'): WirePoint {
  return { id, sensorId, metric, value, ts };
}

function rec(partition: number, offset: number, points: WirePoint[], checkIds = false): PlannedRecord {
  return { topic: T, partition, offset: String(offset), points, checkIds };
}

function stored(point: WirePoint, src?: string): [string, StoredCopy] {
  return [readingKey(point), { src, sensorId: point.sensorId, metric: point.metric, ts: point.ts, value: point.value }];
}

/**
 * Rollups as plain comparable rows, one per slice minute, sorted by key: `<slice>:<series key>:<minute>` (the
 * slice document's id ends in the hour instead).
 */
function rows(records: PlannedRecord[], found: [string, StoredCopy][] = []) {
  return planWrite(records, new Map(found))
    .rollups.flatMap((d) =>
      d.mins.map((m) => {
        const { n, sum, min, max } = sliceMinuteStats(m);
        return {
          id: `${d._id.slice(0, d._id.lastIndexOf(':'))}:${m.ts.getTime()}`,
          o: d.o,
          ts: m.ts.getTime(),
          n,
          sum,
          min,
          max,
        };
      }),
    )
    .sort((a, b) => a.id.localeCompare(b.id));
}

describe('planWrite: what a batch inserts and what its rollups count', () => {
  it('inserts every fresh reading with its record as source, and rolls them up per slice, series and minute', () => {
    const records = [
      rec(0, 10, [pt('a', 1.5, 0), pt('b', -3, MINUTE - 1), pt('c', 8, MINUTE)]),
      rec(1, 4, [pt('d', 2, 5), pt('e', 6, 7, 's', 'other')]),
      rec(0, 11, [pt('f', 4, 30_000)]),
    ];
    const plan = planWrite(records, new Map());
    expect(plan.insert.map((p) => [p.point.id, p.src])).toEqual([
      ['a', '0:10'],
      ['b', '0:10'],
      ['c', '0:10'],
      ['d', '1:4'],
      ['e', '1:4'],
      ['f', '0:11'],
    ]);
    expect(plan.duplicates).toBe(0);
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    expect(rows(records).sort(byId)).toEqual(
      [
        { id: `${T}:0:10:${K}:0`, o: 10, ts: 0, n: 3, sum: 2.5, min: -3, max: 4 },
        { id: `${T}:0:10:${K}:60000`, o: 10, ts: MINUTE, n: 1, sum: 8, min: 8, max: 8 },
        { id: `${T}:1:4:${K}:0`, o: 4, ts: 0, n: 1, sum: 2, min: 2, max: 2 },
        { id: `${T}:1:4:${seriesFields('s', 'other').k}:0`, o: 4, ts: 0, n: 1, sum: 6, min: 6, max: 6 },
      ].sort(byId),
    );
  });

  it('keys a slice by its lowest offset whatever the order of its records', () => {
    const records = [rec(0, 12, [pt('a', 1, 0)]), rec(0, 9, [pt('b', 1, 0)])];
    expect(rows(records).map((r) => r.id)).toEqual([`${T}:0:9:${K}:0`]);
  });

  it('counts a reading already stored by its own record (a replay of a write that landed)', () => {
    const a = pt('a', 5, 0);
    const records = [rec(0, 3, [a, pt('b', 1, 0)], true)];
    const plan = planWrite(records, new Map([stored(a, sourceOf(0, '3'))]));
    expect(plan.insert.map((p) => p.point.id)).toEqual(['b']);
    expect(plan.duplicates).toBe(1);
    expect(rows(records, [stored(a, '0:3')])).toEqual([
      { id: `${T}:0:3:${K}:0`, o: 3, ts: 0, n: 2, sum: 6, min: 1, max: 5 },
    ]);
  });

  it('does not count a reading stored by another record (a client retry), nor one stored without a source', () => {
    const a = pt('a', 5, 0);
    const b = pt('b', 7, 0);
    const records = [rec(0, 3, [a, b, pt('c', 1, 0)], true)];
    const found = [stored(a, '0:2'), stored(b, undefined)];
    expect(planWrite(records, new Map(found)).insert.map((p) => p.point.id)).toEqual(['c']);
    expect(rows(records, found)).toEqual([{ id: `${T}:0:3:${K}:0`, o: 3, ts: 0, n: 1, sum: 1, min: 1, max: 1 }]);
    // Same offset on another partition is another record.
    expect(rows(records, [stored(a, '1:3')]).map((r) => r.n)).toEqual([2]);
  });

  it('counts an in-batch repeat once, under the first record, and under no later copy', () => {
    const records = [rec(0, 1, [pt('a', 1, 0), pt('a', 1, 0)]), rec(1, 1, [pt('a', 9, 0), pt('x', 2, 0)])];
    const plan = planWrite(records, new Map());
    expect(plan.insert.map((p) => [p.point.id, p.src])).toEqual([
      ['a', '0:1'],
      ['x', '1:1'],
    ]);
    expect(plan.duplicates).toBe(2);
    expect(rows(records).map((r) => [r.id, r.n, r.sum])).toEqual([
      [`${T}:0:1:${K}:0`, 1, 1],
      [`${T}:1:1:${K}:0`, 1, 2],
    ]);
  });

  it('counts a stored repeat under the record it was stored from, even when a copy of another record comes first', () => {
    // Replay order differs from the original: the copy stored first (from 0:5) now arrives after 1:2's.
    const stale = pt('a', 9, 0);
    const original = pt('a', 4, MINUTE);
    const records = [rec(1, 2, [stale], true), rec(0, 5, [original], true)];
    const found = [stored(original, '0:5')];
    expect(planWrite(records, new Map(found)).insert).toEqual([]);
    expect(rows(records, found)).toEqual([
      { id: `${T}:0:5:${K}:60000`, o: 5, ts: MINUTE, n: 1, sum: 4, min: 4, max: 4 },
    ]);
  });

  it('rolls up the stored copy (its series, time and value), which is what the raw collection holds', () => {
    const replayed = pt('a', 1, 0); // a retry whose default timestamp is later than the stored copy's
    const copy: [string, StoredCopy] = [
      readingKey(replayed),
      { src: '0:8', sensorId: 's', metric: 'm', ts: 3 * MINUTE + 1, value: 2 },
    ];
    expect(rows([rec(0, 8, [replayed], true)], [copy])).toEqual([
      { id: `${T}:0:8:${K}:180000`, o: 8, ts: 3 * MINUTE, n: 1, sum: 2, min: 2, max: 2 },
    ]);
  });

  it('keys ids per (sensorId, metric): one id on two metrics is two readings, on one series a repeat', () => {
    const temperature = pt('shared', 1, 0, 's', 'temperature');
    const pressure = pt('shared', 2, 0, 's', 'pressure');
    const otherSensor = pt('shared', 3, 0, 's2', 'temperature');
    const repeat = pt('shared', 9, 0, 's', 'temperature');
    const records = [rec(0, 1, [temperature, pressure, otherSensor]), rec(0, 2, [repeat], true)];
    for (const found of [[], [stored(pt('unrelated', 0, 0), '9:9')]]) {
      const plan = planWrite(records, new Map(found));
      expect(plan.insert.map((p) => p.point)).toEqual([temperature, pressure, otherSensor]);
      expect(plan.duplicates).toBe(1);
    }
    // Stored under one series, the id still leaves the other series' readings to insert.
    const plan = planWrite(records, new Map([stored(pressure, '0:0')]));
    expect(plan.insert.map((p) => p.point)).toEqual([temperature, otherSensor]);
    expect(pointsToCheck(records)).toEqual([temperature]);
  });

  it('writes one slice document per series and hour, its minutes earliest first, whatever the readings order', () => {
    const HOUR = 60 * MINUTE;
    // A sensor reporting once a minute for 90 minutes, sent newest first, and one reading of another series.
    const points = Array.from({ length: 90 }, (_, i) => pt(`r${i}`, i, (89 - i) * MINUTE + 5));
    const plan = planWrite([rec(0, 7, points), rec(0, 8, [pt('x', 1, 10, 's', 'other')])], new Map());
    const docs = [...plan.rollups].sort((a, b) => a._id.localeCompare(b._id));
    const other = seriesFields('s', 'other').k;
    expect(docs.map((d) => [d._id, d.ts.getTime(), d.o, d.oe, d.mins.length])).toEqual(
      [
        [`${T}:0:7:${K}:0`, 0, 7, 8, 60],
        [`${T}:0:7:${K}:${HOUR}`, HOUR, 7, 8, 30],
        [`${T}:0:7:${other}:0`, 0, 7, 8, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    for (const doc of docs) {
      const starts = doc.mins.map((m) => m.ts.getTime());
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
      for (const start of starts) expect(start - (start % HOUR)).toBe(doc.ts.getTime());
    }
    // Every reading counted once, in its own minute: reading r<i> is at minute 89 - i with value i.
    const ofK = docs.filter((d) => d.k === K).flatMap((d) => d.mins);
    expect(ofK.map((m) => [m.ts.getTime() / MINUTE, sliceMinuteStats(m).n, sliceMinuteStats(m).sum])).toEqual(
      Array.from({ length: 90 }, (_, minute) => [minute, 1, 89 - minute]),
    );
  });

  it('stores each minute as the statistics of its readings in batch order, however they interleave', () => {
    // Two series, readings of 1 to 3 per minute over 3 hours, shuffled by a seeded generator and interleaved.
    let seed = 11;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const points: WirePoint[] = [];
    for (let minute = 0; minute < 180; minute++)
      for (const sensor of ['s', 'u'])
        for (let k = 0; k <= next(3); k++)
          points.push(pt(`${sensor}${minute}:${k}`, next(200) / 4 - 25, minute * MINUTE + next(MINUTE), sensor));
    for (let i = points.length - 1; i > 0; i--) {
      const j = next(i + 1);
      [points[i], points[j]] = [points[j]!, points[i]!];
    }
    const records = [rec(0, 3, points.slice(0, 200)), rec(0, 4, points.slice(200))];
    const byMinute = new Map<string, WirePoint[]>();
    for (const p of points) {
      const key = `${p.sensorId}:${p.ts - (p.ts % MINUTE)}`;
      byMinute.set(key, [...(byMinute.get(key) ?? []), p]);
    }
    const docs = planWrite(records, new Map()).rollups;
    const got = new Map<string, unknown>(
      docs.flatMap((d) => d.mins.map((m) => [`${d.s}:${m.ts.getTime()}`, m] as const)),
    );
    expect(got.size).toBe(byMinute.size);
    for (const [key, readings] of byMinute) {
      const start = Number(key.slice(key.indexOf(':') + 1));
      expect(got.get(key)).toEqual(storedSliceMinute(start, statsOf(readings)));
    }
    for (const d of docs) {
      const starts = d.mins.map((m) => m.ts.getTime());
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  });

  it('writes nothing for records without readings (dead letters), and their offsets still open the slice', () => {
    const records = [rec(0, 4, []), rec(0, 5, [pt('a', 1, 0)])];
    expect(rows(records).map((r) => r.o)).toEqual([4]);
    expect(planWrite([rec(0, 4, [])], new Map())).toEqual({ insert: [], rollups: [], duplicates: 0 });
  });
});

describe('pointsToCheck', () => {
  it('looks up each id once, when some copy of it is in a record marked for a check', () => {
    const a = pt('a', 1, 0);
    const records = [rec(0, 1, [a, pt('b', 1, 0)]), rec(0, 2, [pt('a', 2, 0), pt('c', 1, 0)], true)];
    expect(pointsToCheck(records)).toEqual([a, pt('c', 1, 0)]);
    expect(pointsToCheck([rec(0, 1, [a])])).toEqual([]);
  });
});

describe('idCheckChunks', () => {
  /** Every reading in exactly one chunk, chunks in time order, each bounded by count and, past `size`, by span. */
  function expectBounded(points: WirePoint[], chunks: WirePoint[][]): void {
    expect(
      chunks
        .flat()
        .map((p) => p.id)
        .sort(),
    ).toEqual(points.map((p) => p.id).sort());
    for (let i = 0; i < chunks.length; i++) {
      const ts = chunks[i]!.map((p) => p.ts);
      const span = Math.max(...ts) - Math.min(...ts);
      expect({ size: chunks[i]!.length <= ID_CHECK_NARROW_CHUNK }).toEqual({ size: true });
      if (chunks[i]!.length > ID_CHECK_CHUNK)
        expect({ chunk: i, span: span <= ID_CHECK_NARROW_MS }).toEqual({ chunk: i, span: true });
      if (i > 0) expect(Math.min(...ts)).toBeGreaterThanOrEqual(Math.max(...chunks[i - 1]!.map((p) => p.ts)));
    }
  }

  it('never lets a query span the epoch and today: 5,000 sensors at ts=0 beside 5,000 readings of now', () => {
    const now = 1_800_000_000_000;
    const points = Array.from({ length: 10_000 }, (_, i) =>
      i % 2 === 0 ? pt(`z${i}`, 1, 0, `sensor-${i}`) : pt(`n${i}`, 1, now + i, `sensor-${i}`),
    );
    const chunks = idCheckChunks(points);
    expectBounded(points, chunks);
    // Each half lies within 10 s: queries of ID_CHECK_NARROW_CHUNK, none holding readings of both halves.
    expect(chunks.map((c) => c.length)).toEqual(Array.from({ length: 10 }, () => 1000));
    for (const chunk of chunks) {
      const ts = chunk.map((p) => p.ts);
      expect({ spansEpochAndNow: Math.min(...ts) === 0 && Math.max(...ts) >= now }).toEqual({
        spansEpochAndNow: false,
      });
    }
    expect(idCheckChunks([])).toEqual([]);
  });

  it('takes ID_CHECK_CHUNK readings per query where they spread over more than ID_CHECK_NARROW_MS', () => {
    // One reading a second for 10,000 s: 500 readings span 499 s.
    const points = Array.from({ length: 10_000 }, (_, i) => pt(`w${i}`, 1, i * 1000));
    const chunks = idCheckChunks(points);
    expectBounded(points, chunks);
    expect(chunks).toHaveLength(10_000 / ID_CHECK_CHUNK);
  });

  it('takes up to ID_CHECK_NARROW_CHUNK per query for timestamped line protocol: 100 sensors, an instant a ms', () => {
    const points = Array.from({ length: 12_000 }, (_, i) =>
      pt(`lp${i}`, 1, 1_800_000_000_000 + Math.floor(i / 100), `s${i % 100}`),
    );
    const chunks = idCheckChunks(points);
    expectBounded(points, chunks);
    expect(chunks.map((c) => c.length)).toEqual(Array.from({ length: 12 }, () => 1000));
  });

  it('mixes both: a narrow run is cut where its span passes ID_CHECK_NARROW_MS once it holds ID_CHECK_CHUNK', () => {
    // 700 readings in the first 7 s, then one a minute: the first chunk ends at the first reading past 60 s.
    const points = [
      ...Array.from({ length: 700 }, (_, i) => pt(`a${i}`, 1, i * 10)),
      ...Array.from({ length: 50 }, (_, i) => pt(`b${i}`, 1, 61_000 + i * 60_000)),
    ];
    const chunks = idCheckChunks(points);
    expectBounded(points, chunks);
    expect(chunks.map((c) => c.length)).toEqual([700, 50]);
  });
});

describe('planWrite with nothing stored (the fresh-traffic path)', () => {
  // A stored copy of an id no record carries sends planWrite down its general path: both must agree.
  const unrelated = stored(pt('not-in-any-record', 0, 0), '9:9');

  it('plans exactly what the general path plans, on seeded random batches with repeats and 3 partitions', () => {
    let seed = 7;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let batch = 0; batch < 200; batch++) {
      const offsets = [0, 0, 0].map(() => 100 + next(50));
      const records = Array.from({ length: 1 + next(12) }, () => {
        const partition = next(3);
        const offset = offsets[partition]!++;
        // Ids drawn from a small pool, so the same id recurs within and across records.
        const points = Array.from({ length: 1 + next(20) }, () =>
          pt(`id${next(60)}`, next(1000) / 10 - 50, next(5 * MINUTE), `s${next(4)}`, `m${next(2)}`),
        );
        return rec(partition, offset, points);
      });
      const fresh = planWrite(records, new Map());
      const general = planWrite(records, new Map([unrelated]));
      expect(fresh.insert).toEqual(general.insert);
      expect(fresh.duplicates).toBe(general.duplicates);
      expect(rows(records)).toEqual(rows(records, [unrelated]));
    }
  });
});
