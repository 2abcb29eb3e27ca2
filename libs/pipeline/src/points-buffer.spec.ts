// Unit tests of the worker's buffer: adding, redelivered offsets and taking batches.
import { describe, expect, it } from '@jest/globals';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

import type { WirePoint } from '@funnel/contracts';

import { PointsBuffer, type Batch, type BufferedRecord } from './points-buffer.js';

let serial = 0;

/** A record of `n` distinct readings from topic/partition at `offset`. */
function rec(
  partition: number,
  offset: string | number,
  n: number,
  topic = 'funnel.points',
  extra: Partial<BufferedRecord> = {},
): BufferedRecord {
  const points: WirePoint[] = Array.from({ length: n }, () => ({
    id: `r:test:${serial}`,
    sensorId: 's',
    metric: 'm',
    value: serial++,
    ts: 0,
  }));
  return { topic, partition, offset: String(offset), points, epoch: 1, checkIds: false, receivedAt: 0, ...extra };
}

function pointsOf(records: BufferedRecord[]): WirePoint[] {
  return records.flatMap((r) => r.points);
}

interface Slice {
  topic: string;
  partition: number;
  epoch: number;
  from: string;
  through: string;
}

/** A batch's partition slices as comparable values (from/through as decimal strings), sorted. */
function slicesOf(batch: Batch): Slice[] {
  return sortSlices(batch.partitions.map((p) => ({ ...p, from: p.from.toString(), through: p.through.toString() })));
}

function sortSlices(slices: Slice[]): Slice[] {
  return [...slices].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Numeric comparison of non-negative decimal strings without leading zeros (independent of BigInt). */
function compareDecimal(a: string, b: string): number {
  return a.length !== b.length ? a.length - b.length : a < b ? -1 : a > b ? 1 : 0;
}

/** Decimal-string + 1, done digit by digit (independent of BigInt). */
function plusOne(decimal: string): string {
  const digits = decimal.split('').map(Number);
  let i = digits.length - 1;
  while (i >= 0 && digits[i] === 9) digits[i--] = 0;
  if (i < 0) digits.unshift(1);
  else digits[i]++;
  return digits.join('');
}

/** Expected slices of a set of records: per topic-partition, the lowest and highest offset (and the records' epoch). */
function expectedSlices(records: BufferedRecord[]): Slice[] {
  const top = new Map<string, BufferedRecord>();
  const low = new Map<string, string>();
  for (const r of records) {
    const key = `${r.topic}|${r.partition}`;
    const seen = top.get(key);
    if (!seen || compareDecimal(r.offset, seen.offset) > 0) top.set(key, r);
    const lowest = low.get(key);
    if (lowest === undefined || compareDecimal(r.offset, lowest) < 0) low.set(key, r.offset);
  }
  return sortSlices(
    [...top.entries()].map(([key, r]) => ({
      topic: r.topic,
      partition: r.partition,
      epoch: r.epoch,
      from: low.get(key)!,
      through: r.offset,
    })),
  );
}

/** Seeded PRNG (pure-rand's xoroshiro128+) so randomised cases are reproducible. */
function prng(seed: number): () => number {
  const rng = xoroshiro128plus(seed);
  return () => uniformInt(rng, 0, 0xffffffff) / 2 ** 32;
}

describe('PointsBuffer add / size / pendingRecords', () => {
  it('starts empty', () => {
    const buffer = new PointsBuffer();
    expect(buffer.size).toBe(0);
    expect(buffer.pendingRecords).toBe(0);
    expect(buffer.take(10)).toBeUndefined();
  });

  it('counts readings in size and records in pendingRecords', () => {
    const buffer = new PointsBuffer();
    expect(buffer.add(rec(0, 0, 3))).toBe(true);
    expect(buffer.add(rec(1, 0, 5))).toBe(true);
    expect(buffer.add(rec(0, 1, 1))).toBe(true);
    expect(buffer.size).toBe(9);
    expect(buffer.pendingRecords).toBe(3);
  });

  it('carries a record without readings (a rejected record) so that its offset is part of a batch', () => {
    const buffer = new PointsBuffer();
    expect(buffer.add(rec(0, 7, 0))).toBe(true);
    expect(buffer.size).toBe(0);
    expect(buffer.pendingRecords).toBe(1);
    const batch = buffer.take(100)!;
    expect(pointsOf(batch.records)).toEqual([]);
    expect(slicesOf(batch)).toEqual([{ topic: 'funnel.points', partition: 0, epoch: 1, from: '7', through: '7' }]);
  });
});

describe('PointsBuffer drops redelivered offsets (<= highest seen per topic-partition)', () => {
  it('drops the same offset and lower ones, keeping nothing of them', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(0, 5, 2));
    for (const offset of [5, 4, 0]) {
      expect(buffer.add(rec(0, offset, 3))).toBe(false);
    }
    expect(buffer.size).toBe(2);
    expect(buffer.pendingRecords).toBe(1);
    expect(buffer.add(rec(0, 6, 3))).toBe(true);
    expect(buffer.size).toBe(5);
  });

  it('accepts gaps in offsets (compacted or transactional topics)', () => {
    const buffer = new PointsBuffer();
    expect(buffer.add(rec(0, 5, 1))).toBe(true);
    expect(buffer.add(rec(0, 100, 1))).toBe(true);
    expect(buffer.add(rec(0, 99, 1))).toBe(false);
  });

  it('compares offsets as numbers, not as strings ("10" after "9")', () => {
    const buffer = new PointsBuffer();
    expect(buffer.add(rec(0, '9', 1))).toBe(true);
    expect(buffer.add(rec(0, '10', 1))).toBe(true);
    expect(buffer.add(rec(0, '9', 1))).toBe(false);
    expect(buffer.add(rec(0, '100', 1))).toBe(true);
  });

  it('compares offsets beyond 2^53 exactly', () => {
    const buffer = new PointsBuffer();
    // 9007199254740992 and ...993 are the same double; they must still be told apart
    expect(buffer.add(rec(0, '9007199254740992', 1))).toBe(true);
    expect(buffer.add(rec(0, '9007199254740993', 1))).toBe(true);
    expect(buffer.add(rec(0, '9007199254740993', 1))).toBe(false);
    expect(buffer.add(rec(0, '9223372036854775806', 1))).toBe(true);
    expect(buffer.add(rec(0, '9223372036854775805', 1))).toBe(false);
    expect(buffer.pendingRecords).toBe(3);
  });

  it('tracks each topic-partition separately', () => {
    const buffer = new PointsBuffer();
    expect(buffer.add(rec(0, 10, 1))).toBe(true);
    expect(buffer.add(rec(1, 3, 1))).toBe(true); // other partition, lower offset
    expect(buffer.add(rec(0, 3, 1, 'other.topic'))).toBe(true); // same partition number, other topic
    expect(buffer.add(rec(1, 3, 1))).toBe(false);
    expect(buffer.add(rec(0, 3, 1, 'other.topic'))).toBe(false);
    expect(buffer.pendingRecords).toBe(3);
  });

  it('still drops a redelivery after the original was taken (written) out of the buffer', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(2, 41, 1));
    buffer.add(rec(2, 42, 1));
    buffer.take(100);
    expect(buffer.add(rec(2, 42, 1))).toBe(false);
    expect(buffer.add(rec(2, 41, 1))).toBe(false);
    expect(buffer.pendingRecords).toBe(0);
    expect(buffer.add(rec(2, 43, 1))).toBe(true);
  });
});

describe('PointsBuffer.take(maxPoints)', () => {
  it('takes whole records from the front until at least maxPoints readings', () => {
    const buffer = new PointsBuffer();
    const records = [rec(0, 0, 3), rec(0, 1, 3), rec(0, 2, 3)];
    records.forEach((r) => buffer.add(r));
    const batch = buffer.take(4)!;
    expect(batch.records).toEqual(records.slice(0, 2)); // 3 < 4, 6 >= 4: a record is never split
    expect(buffer.size).toBe(3);
    expect(buffer.pendingRecords).toBe(1);
  });

  it('stops as soon as maxPoints is reached exactly', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 2), rec(0, 1, 2), rec(0, 2, 2)].forEach((r) => buffer.add(r));
    expect(pointsOf(buffer.take(4)!.records)).toHaveLength(4);
    expect(buffer.size).toBe(2);
  });

  it('takes at least one record, even one larger than maxPoints or when maxPoints is 0', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 10), rec(0, 1, 1), rec(0, 2, 1)].forEach((r) => buffer.add(r));
    expect(pointsOf(buffer.take(3)!.records)).toHaveLength(10);
    expect(buffer.take(0)!.records).toHaveLength(1);
    expect(buffer.pendingRecords).toBe(1);
  });

  it('takes everything when the buffer holds fewer than maxPoints', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 1), rec(1, 0, 0), rec(0, 1, 2)].forEach((r) => buffer.add(r));
    expect(buffer.take(1000)!.records).toHaveLength(3);
    expect(buffer.size).toBe(0);
    expect(buffer.pendingRecords).toBe(0);
    expect(buffer.take(1000)).toBeUndefined();
  });

  it('is FIFO and matches a prefix-sum model for random record sizes (seeded)', () => {
    const rand = prng(2026);
    for (let round = 0; round < 200; round++) {
      const buffer = new PointsBuffer();
      const queue: BufferedRecord[] = [];
      const nextOffset = [0, 0, 0];
      for (let i = 0; i < 1 + Math.floor(rand() * 40); i++) {
        const p = Math.floor(rand() * 3);
        const r = rec(p, nextOffset[p]++, Math.floor(rand() * 6));
        buffer.add(r);
        queue.push(r);
      }
      while (queue.length > 0) {
        const maxPoints = Math.floor(rand() * 12);
        // model: the shortest non-empty prefix whose readings reach maxPoints, else everything
        let n = 1;
        let sum = queue[0].points.length;
        while (n < queue.length && sum < maxPoints) sum += queue[n++].points.length;
        const expected = queue.splice(0, n);
        const batch = buffer.take(maxPoints)!;
        expect(batch.records).toEqual(expected);
        expect(slicesOf(batch)).toEqual(expectedSlices(expected));
        expect(buffer.size).toBe(queue.reduce((s, r) => s + r.points.length, 0));
        expect(buffer.pendingRecords).toBe(queue.length);
      }
      expect(buffer.take(1)).toBeUndefined();
    }
  });
});

describe('PointsBuffer batch partitions: highest offset per topic-partition', () => {
  it('has one slice per topic-partition in the batch, with its epoch', () => {
    const buffer = new PointsBuffer();
    const records = [
      rec(0, 10, 1, 'funnel.points', { epoch: 4 }),
      rec(1, 3, 1, 'funnel.points', { epoch: 2 }),
      rec(0, 11, 1, 'funnel.points', { epoch: 4 }),
      rec(0, 12, 0, 'funnel.points', { epoch: 4 }),
      rec(1, 4, 1, 'funnel.points', { epoch: 2 }),
      rec(2, 0, 1),
      rec(0, 5, 1, 'b'),
    ];
    records.forEach((r) => buffer.add(r));
    expect(slicesOf(buffer.take(1000)!)).toEqual([
      { topic: 'b', partition: 0, epoch: 1, from: '5', through: '5' },
      { topic: 'funnel.points', partition: 0, epoch: 4, from: '10', through: '12' },
      { topic: 'funnel.points', partition: 1, epoch: 2, from: '3', through: '4' },
      { topic: 'funnel.points', partition: 2, epoch: 1, from: '0', through: '0' },
    ]);
  });

  it('only covers the records of the batch', () => {
    const buffer = new PointsBuffer();
    [rec(0, 1, 2), rec(1, 1, 2), rec(0, 2, 2)].forEach((r) => buffer.add(r));
    expect(slicesOf(buffer.take(3)!).map((s) => [s.partition, s.through])).toEqual([
      [0, '1'],
      [1, '1'],
    ]);
    expect(slicesOf(buffer.take(3)!).map((s) => [s.partition, s.through])).toEqual([[0, '2']]);
  });

  it('is exact beyond 2^53 and 2^63', () => {
    const offsets = ['9007199254740992', '9007199254740993', '9223372036854775807', '18446744073709551615'];
    const buffer = new PointsBuffer();
    offsets.forEach((o, p) => buffer.add(rec(p, o, 1)));
    buffer.add(rec(0, '9007199254740993', 1)); // above ...992 only in exact arithmetic
    expect(slicesOf(buffer.take(10)!).map((s) => s.through)).toEqual([
      '9007199254740993',
      '9007199254740993',
      '9223372036854775807',
      '18446744073709551615',
    ]);
  });

  it('matches an independent decimal model for random large offsets (seeded)', () => {
    const rand = prng(53);
    for (let round = 0; round < 50; round++) {
      const buffer = new PointsBuffer();
      const added: BufferedRecord[] = [];
      // a random 17-20 digit start per partition, then increasing offsets with random gaps
      const current = [0, 1, 2].map(() => {
        let d = String(1 + Math.floor(rand() * 9));
        for (let i = 0, n = 16 + Math.floor(rand() * 4); i < n; i++) d += String(Math.floor(rand() * 10));
        return d;
      });
      for (let i = 0; i < 30; i++) {
        const p = Math.floor(rand() * 3);
        for (let gap = Math.floor(rand() * 12); gap >= 0; gap--) current[p] = plusOne(current[p]);
        const r = rec(p, current[p], Math.floor(rand() * 3));
        expect(buffer.add(r)).toBe(true);
        added.push(r);
      }
      expect(slicesOf(buffer.take(1_000_000)!)).toEqual(expectedSlices(added));
    }
  });
});

describe('PointsBuffer.putBack', () => {
  it('restores the batch at the front in its original order, with size and pendingRecords', () => {
    const buffer = new PointsBuffer();
    const [a, b, c] = [rec(0, 0, 2), rec(1, 0, 3), rec(0, 1, 4)];
    [a, b, c].forEach((r) => buffer.add(r));
    const batch = buffer.take(5)!;
    expect(batch.records).toEqual([a, b]);
    const d = rec(1, 1, 1);
    expect(buffer.add(d)).toBe(true); // arrives while the batch is being written
    buffer.putBack(batch);
    expect(buffer.size).toBe(10);
    expect(buffer.pendingRecords).toBe(4);
    const again = buffer.take(1000)!;
    expect(again.records.map((r) => [r.partition, r.offset])).toEqual([
      [0, '0'],
      [1, '0'],
      [0, '1'],
      [1, '1'],
    ]);
    expect(pointsOf(again.records)).toEqual(pointsOf([a, b, c, d]));
  });

  it('marks put-back records for an id check (a failed unordered insert may have stored some)', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 1), rec(0, 1, 1), rec(0, 2, 1)].forEach((r) => buffer.add(r));
    buffer.putBack(buffer.take(2)!);
    expect(buffer.take(1000)!.records.map((r) => r.checkIds)).toEqual([true, true, false]);
  });

  it('gives the same readings and slices on the next take with the same maxPoints', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 2), rec(1, 0, 0), rec(0, 1, 2), rec(1, 1, 2)].forEach((r) => buffer.add(r));
    const first = buffer.take(4)!;
    buffer.putBack(first);
    const second = buffer.take(4)!;
    expect(pointsOf(second.records)).toEqual(pointsOf(first.records));
    expect(slicesOf(second)).toEqual(slicesOf(first));
  });

  it('restores only the records it is given (e.g. without fenced ones), counting only their readings', () => {
    const buffer = new PointsBuffer();
    const [a, b, c] = [rec(0, 0, 2), rec(1, 0, 3), rec(0, 1, 4)];
    [a, b, c].forEach((r) => buffer.add(r));
    const batch = buffer.take(1000)!;
    buffer.putBack(batch, [a, c]);
    expect(buffer.size).toBe(6);
    expect(buffer.pendingRecords).toBe(2);
    expect(pointsOf(buffer.take(1000)!.records)).toEqual(pointsOf([a, c]));
  });

  it('keeps recognising redeliveries of records that were put back', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(0, 0, 1));
    buffer.putBack(buffer.take(1)!);
    expect(buffer.pendingRecords).toBe(1);
    expect(buffer.add(rec(0, 0, 1))).toBe(false);
    expect(buffer.pendingRecords).toBe(1);
  });
});

describe('PointsBuffer.clear (partition reassignment)', () => {
  it('empties the buffer and starts a new generation', () => {
    const buffer = new PointsBuffer();
    [rec(0, 0, 2), rec(1, 0, 3)].forEach((r) => buffer.add(r));
    const before = buffer.generation;
    expect(buffer.take(1)!.generation).toBe(before);
    buffer.clear();
    expect(buffer.size).toBe(0);
    expect(buffer.pendingRecords).toBe(0);
    expect(buffer.generation).not.toBe(before);
  });

  it('forgets the offsets seen, so that Kafka can redeliver them from the committed offset', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(0, 5, 1));
    buffer.clear();
    expect(buffer.add(rec(0, 3, 1))).toBe(true);
    expect(buffer.add(rec(0, 5, 1))).toBe(true);
  });

  it('ignores putBack of a batch taken before the clear', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(0, 0, 2));
    const stale = buffer.take(10)!;
    buffer.clear();
    const fresh = rec(0, 0, 1);
    buffer.add(fresh);
    buffer.putBack(stale);
    expect(buffer.size).toBe(1);
    expect(buffer.take(10)!.records).toEqual([fresh]);
  });
});

describe('PointsBuffer take with a limit (the room left in a bounded store)', () => {
  it('takes whole records that fit within the limit, and nothing when not even the first fits', () => {
    const buffer = new PointsBuffer();
    buffer.add(rec(0, 1, 20));
    buffer.add(rec(0, 2, 20));
    buffer.add(rec(0, 3, 20));
    expect(buffer.take(1000, 15)).toBeUndefined();
    expect(buffer.size).toBe(60);
    const batch = buffer.take(1000, 45);
    expect(batch?.records.map((r) => r.offset)).toEqual(['1', '2']);
    expect(buffer.size).toBe(20);
    expect(buffer.pendingRecords).toBe(1);
  });
});
