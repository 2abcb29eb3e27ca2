// Specs of BatchWriter: fencing, id checks, dead letters, minute rollups and the write budget.
import { describe, expect, it, jest } from '@jest/globals';

import type { WirePoint } from '@funnel/contracts';
import { ReadingsStoredMeanwhile, seriesFields, sliceMinuteStats, type DeadLetter } from '@funnel/storage';

import {
  TOPIC,
  committedSoFar,
  expectedCommits,
  settle,
  setup,
  useWritePathHooks,
} from './testing/write-path.harness.js';

/** The series key of sensor s, metric m, no tags. */
const K = seriesFields('s', 'm').k;

useWritePathHooks();

describe('BatchWriter fencing, id checks and dead letters', () => {
  it("announces each partition's highest offset with its claim epoch before writing", async () => {
    const t = setup({});
    t.add(0, 1, { epoch: 3 });
    t.add(1, 1, { epoch: 5 });
    t.add(0, 2, { epoch: 3 });
    await t.scheduler.flush();
    const announced = t.fence.announce.mock.calls.map(([topic, partition, epoch, through]) => [
      topic,
      partition,
      epoch,
      String(through),
    ]);
    expect(announced.sort()).toEqual([
      [TOPIC, 0, 3, '1'],
      [TOPIC, 1, 5, '0'],
    ]);
    expect(t.log.findIndex((l) => l.startsWith('write'))).toBeGreaterThan(
      t.log.findLastIndex((l) => l.startsWith('announce')),
    );
  });

  it('leaves the records of a partition claimed by another worker unwritten and uncommitted', async () => {
    const t = setup({});
    t.fence.claimedElsewhere.add(1);
    const mine = [t.add(0, 2), t.add(0, 1)];
    t.add(1, 3);
    t.add(1, 1);
    await t.scheduler.flush();
    expect(t.repository.written).toEqual(mine.flatMap((r) => r.points));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(mine));
    expect(t.buffer.pendingRecords).toBe(0); // left to the new owner, not retried here
    expect(t.flusher.stats.fenced).toBe(2);
  });

  it('after a failed write, puts back only the records of partitions it still owns', async () => {
    const t = setup({});
    t.fence.claimedElsewhere.add(1);
    const mine = t.add(0, 2);
    t.add(1, 3);
    t.repository.behaviour = async () => {
      throw new Error('down');
    };
    await t.scheduler.flush();
    expect(t.buffer.size).toBe(2);
    expect(t.buffer.take(1000)!.records.map((r) => [r.partition, r.offset])).toEqual([[0, mine.offset]]);
  });

  it('commits nothing when every record of the batch was fenced', async () => {
    const t = setup({});
    t.fence.claimedElsewhere.add(0);
    t.add(0, 2);
    await t.scheduler.flush();
    expect(t.repository.written).toEqual([]);
    expect(t.consumer.commit).not.toHaveBeenCalled();
  });

  it('skips readings already stored in records marked for an id check, and still commits their offsets', async () => {
    const t = setup({});
    const plain = t.add(0, 2);
    const checked = t.add(1, 3, { checkIds: true });
    t.repository.stored.add(checked.points[1].id);
    t.repository.stored.add(plain.points[0].id); // not looked up: its record is not marked
    await t.scheduler.flush();
    expect(t.repository.checked).toEqual([checked.points.map((p) => p.id)]);
    expect(t.repository.written).toEqual([...plain.points, checked.points[0], checked.points[2]]);
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
    expect(t.flusher.stats).toMatchObject({ written: 4, duplicatesDropped: 1 });
  });

  it.each([
    ['client ids', [{ idem: true }], [60_000]],
    ['ids of timestamped bodies', [{ idem: true, exactTs: true }], [0]],
    ['both in one batch', [{ idem: true, exactTs: true }, { idem: true }], [60_000]],
  ])(
    'looks ids up over IDEMPOTENCY_WINDOW_MS unless every record repeats exact timestamps: %s',
    async (_, marks, want) => {
      const t = setup({});
      marks.forEach((mark, i) => t.add(i, 2, { checkIds: true, ...mark }));
      await t.scheduler.flush();
      expect(t.repository.lookbacks).toEqual(want);
    },
  );

  it('does not look ids up when no record of the batch is marked', async () => {
    const t = setup({});
    t.add(0, 3);
    await t.scheduler.flush();
    expect(t.repository.checked).toEqual([]);
  });

  it('writes a reading whose id repeats inside one batch only once', async () => {
    const t = setup({});
    const point = (id: string, value: number): WirePoint => ({ id, sensorId: 's', metric: 'm', value, ts: 0 });
    t.add(0, 0, { points: [point('a', 1), point('b', 2)] });
    t.add(1, 0, { points: [point('a', 3), point('c', 4)] });
    await t.scheduler.flush();
    expect(t.repository.written.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    expect(t.flusher.stats.duplicatesDropped).toBe(1);
  });

  it('records dead letters with the batch and commits their offsets afterwards', async () => {
    const t = setup({});
    const letter = { _id: `${TOPIC}:0:1`, reason: 'value is not JSON' } as DeadLetter;
    t.add(0, 2);
    t.add(0, 0, { deadLetter: letter });
    await t.scheduler.flush();
    expect(t.deadLetters.record).toHaveBeenCalledWith([letter]);
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
    expect(t.log.indexOf(`dead letters ${letter._id}`)).toBeLessThan(t.log.findIndex((l) => l.startsWith('commit')));
  });

  it('after a failed write, checks the ids of the retried readings so a partial insert is not stored twice', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    const record = t.add(0, 3);
    t.repository.behaviour = async (call) => {
      if (call === 0) {
        t.repository.stored.add(record.points[0].id); // the unordered insert stored one, then failed
        throw new Error('write concern timeout');
      }
    };
    await t.scheduler.flush();
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.checked).toEqual([record.points.map((p) => p.id)]);
    expect(t.repository.calls[1]).toEqual(record.points.slice(1));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits([record]));
  });

  it('a failing dead-letter write fails the batch: nothing committed, retried later without duplicates', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    const record = t.add(0, 2);
    t.add(0, 0, { deadLetter: { _id: `${TOPIC}:0:1` } as DeadLetter });
    t.deadLetters.record.mockImplementationOnce(async () => {
      for (const p of record.points) t.repository.stored.add(p.id); // the readings did land
      throw new Error('dead letters unavailable');
    });
    await t.scheduler.flush();
    expect(t.consumer.commit).not.toHaveBeenCalled();
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([record.points, []]);
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });
});

describe('BatchWriter minute rollups', () => {
  const MINUTE = 60_000;
  const point = (id: string, value: number, ts: number, sensorId = 's'): WirePoint => ({
    id,
    sensorId,
    metric: 'm',
    value,
    ts,
  });

  it("writes each slice's rollups, keyed by its first offset, beside the readings and before the commit", async () => {
    const t = setup({});
    t.add(0, 0, { points: [point('a', 1, 5), point('b', 4, MINUTE - 1), point('c', -2, MINUTE)] });
    t.add(1, 0, { points: [point('d', 7, 10, 'other')] });
    t.add(0, 0, { points: [point('e', 3, 30)] });
    await t.scheduler.flush();
    const docs = [...t.rollups.docs.values()].sort((x, y) => x._id.localeCompare(y._id));
    // One document per slice, series and hour; its minutes in time order.
    expect(
      docs.map(({ _id, o, s, ts, mins }) => ({
        _id,
        o,
        s,
        ts: ts.getTime(),
        mins: mins.map((m) => {
          const { n, sum, min, max } = sliceMinuteStats(m);
          return { ts: m.ts.getTime(), n, sum, min, max };
        }),
      })),
    ).toEqual([
      {
        _id: `${TOPIC}:0:0:${K}:0`,
        o: 0,
        s: 's',
        ts: 0,
        mins: [
          { ts: 0, n: 3, sum: 8, min: 1, max: 4 },
          { ts: MINUTE, n: 1, sum: -2, min: -2, max: -2 },
        ],
      },
      {
        _id: `${TOPIC}:1:0:${seriesFields('other', 'm').k}:0`,
        o: 0,
        s: 'other',
        ts: 0,
        mins: [{ ts: 0, n: 1, sum: 7, min: 7, max: 7 }],
      },
    ]);
    const at = (prefix: string) => t.log.findIndex((l) => l.startsWith(prefix));
    expect(at('rollups')).toBeLessThan(at('commit'));
    expect(at('written')).toBeLessThan(at('commit'));
  });

  it('commits only once both the readings and the rollups are written, whichever lands last', async () => {
    const t = setup({});
    t.repository.manual();
    t.add(0, 3);
    const flushing = t.scheduler.flush();
    await settle();
    // The slices are written while the insert is in flight; nothing is committed until it lands.
    expect(t.log.filter((l) => l.startsWith('rollups'))).toHaveLength(1);
    expect(t.consumer.commit).not.toHaveBeenCalled();
    t.repository.gates[0]!.resolve();
    await flushing;
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('after a failed insert whose rollups landed, the retry replaces them: each reading counted once', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    const first = t.add(0, 3);
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('insert timed out');
    };
    await t.scheduler.flush();
    expect(t.consumer.commit).not.toHaveBeenCalled();
    expect(t.rollups.total().n).toBe(3); // the first attempt's slices landed
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([first.points, first.points]);
    expect(t.rollups.total()).toEqual({ n: 3, sum: first.points.reduce((s, p) => s + p.value, 0) });
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it("after a failed write, the retry deletes its partition's rollups from its first offset again", async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_MAX_POINTS: 1, FLUSH_INTERVAL_MS: 100 });
    t.add(0, 1);
    t.add(0, 1);
    t.repository.behaviour = async (call) => {
      if (call === 1) throw new Error('insert timed out');
    };
    await t.scheduler.flush();
    // The first batch resets from offset 0; the second fails, and its retry resets from its own offset 1, so
    // slices its failed attempt left for records the retry might not cover cannot count.
    clock += 100;
    await t.scheduler.flush();
    expect(t.rollups.deletes).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    expect(t.rollups.total().n).toBe(2);
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it("deletes a partition's rollups from the first offset of its first batch under each claim epoch, before writing", async () => {
    const t = setup({ FLUSH_MAX_POINTS: 1 });
    t.add(0, 1);
    t.add(0, 1);
    await t.scheduler.flush();
    // Two batches under epoch 1: only the first resets, from its first offset.
    expect(t.rollups.deletes).toEqual([{ partition: 0, offset: 0 }]);
    expect(t.log.indexOf('reset rollups 0@0')).toBeLessThan(t.log.findIndex((l) => l.startsWith('rollups')));
    t.add(0, 1, { epoch: 2 }); // claimed again (a rebalance kept the partition here)
    await t.scheduler.flush();
    expect(t.rollups.deletes).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 2 },
    ]);
    expect(t.rollups.total().n).toBe(3);
  });

  it('counts a replayed reading stored by its own record, not one stored by another record', async () => {
    const t = setup({});
    const mine = point('mine', 5, 0);
    const theirs = point('theirs', 100, 0);
    t.repository.stored.add('mine');
    t.repository.srcs.set('mine', '0:0'); // this record's write landed before a crash
    t.repository.stored.add('theirs');
    t.repository.srcs.set('theirs', '0:77'); // a retry of a request already stored from another record
    t.add(0, 0, { points: [mine, theirs, point('new', 1, 0)], checkIds: true });
    await t.scheduler.flush();
    expect(t.repository.written.map((p) => p.id)).toEqual(['new']);
    expect(t.rollups.total()).toEqual({ n: 2, sum: 6 });
  });

  it('after a duplicate key (stored by another record since the check), the retry counts it there and the rest once', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    const record = t.add(0, 0, {
      points: [point('a', 1, 0), point('raced', 100, 0), point('b', 2, 0)],
      checkIds: true,
    });
    t.repository.behaviour = async (call) => {
      if (call === 0) {
        // On a regular collection (_id from the reading key): a worker of another partition inserted `raced`
        // after this batch's id check, so this unordered insert stored the others and refused it.
        for (const p of t.repository.calls[0]!) t.repository.stored.add(p.id);
        t.repository.srcs.set('raced', '1:9');
        throw new ReadingsStoredMeanwhile(1, new Error('E11000 duplicate key error'));
      }
    };
    await t.scheduler.flush();
    expect(t.consumer.commit).not.toHaveBeenCalled();
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([record.points, []]);
    expect(t.rollups.total()).toEqual({ n: 2, sum: 3 });
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('after a failed rollup write, the retry counts the readings its first attempt stored, once', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    const first = t.add(0, 3);
    t.rollups.fail = new Error('rollups unavailable');
    const storeAll = t.repository.behaviour;
    t.repository.behaviour = async (call) => {
      for (const p of t.repository.calls[call]) t.repository.stored.add(p.id); // the insert landed
      await storeAll(call);
    };
    await t.scheduler.flush();
    expect(t.consumer.commit).not.toHaveBeenCalled();
    t.rollups.fail = undefined;
    const second = t.add(0, 2); // the retried batch covers one more record under the same key
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([first.points, second.points]);
    const sum = [...first.points, ...second.points].reduce((s, p) => s + p.value, 0);
    expect(t.rollups.total()).toEqual({ n: 5, sum });
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('writes no rollups and deletes none for a partition claimed by another worker', async () => {
    const t = setup({});
    t.fence.claimedElsewhere.add(1);
    t.add(0, 1);
    t.add(1, 2);
    await t.scheduler.flush();
    expect(t.rollups.deletes).toEqual([{ partition: 0, offset: 0 }]);
    expect([...t.rollups.docs.values()].map((d) => d.p)).toEqual([0]);
  });

  it('gives every write only the budget left since the announcement, and fails the batch once it is spent', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100, DEDUP_SETTLE_MS: 1250 }); // a write budget of 1000 ms
    t.fence.announce.mockImplementationOnce(async () => {
      clock += 400; // a slow announcement eats into the budget
      return true;
    });
    t.add(0, 1);
    await t.scheduler.flush();
    expect(t.repository.timeouts).toEqual([600]);
    t.fence.announce.mockImplementationOnce(async () => {
      clock += 1000;
      return true;
    });
    t.add(0, 1);
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1); // not attempted: nothing left of the budget
    expect(t.consumer.commit).toHaveBeenCalledTimes(1);
    expect(t.buffer.pendingRecords).toBe(1);
  });
});

describe('BatchWriter on a store that refuses a second copy of a key (insert first, look up after a refusal)', () => {
  const point = (id: string, value: number, sensorId = 's'): WirePoint => ({
    id,
    sensorId,
    metric: 'm',
    value,
    ts: 0,
  });

  it('inserts a first delivery of client ids without looking them up, then writes its rollups', async () => {
    const t = setup({});
    t.repository.refusesRepeats = true;
    const record = t.add(0, 0, { points: [point('a', 1), point('b', 2)], checkIds: true, idem: true });
    await t.scheduler.flush();
    expect(t.repository.checked).toEqual([]);
    expect(t.repository.written).toEqual(record.points);
    expect(t.rollups.total()).toEqual({ n: 2, sum: 3 });
    // The rollups follow the insert (they depend on what it refused).
    expect(t.log.indexOf('written')).toBeLessThan(t.log.findIndex((l) => l.startsWith('rollups')));
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('after a refusal, counts a key stored from another record there and the rest once, without a retry', async () => {
    const t = setup({});
    t.repository.refusesRepeats = true;
    t.repository.stored.add('retried');
    t.repository.srcs.set('retried', '1:9'); // the same request, stored from an earlier record
    t.repository.stored.add('replayed');
    t.repository.srcs.set('replayed', '0:0'); // stored by this very record before a crash
    const record = t.add(0, 0, {
      points: [point('a', 1), point('retried', 100), point('replayed', 10), point('b', 2)],
      checkIds: true,
      idem: true,
    });
    const plain = t.add(1, 0, { points: [point('c', 4, 'other')] });
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([[...record.points, ...plain.points]]);
    expect(t.repository.checked.flat().sort()).toEqual(['a', 'b', 'c', 'replayed', 'retried']);
    expect(t.rollups.total()).toEqual({ n: 4, sum: 17 });
    expect(t.flusher.stats).toMatchObject({ failures: 0, written: 3, duplicatesDropped: 2 });
    expect(committedSoFar(t.consumer.commit)).toEqual(expectedCommits(t.added));
  });

  it('looks ids up first where a checked record is a replay or a retry, not a first delivery', async () => {
    const t = setup({});
    t.repository.refusesRepeats = true;
    t.add(0, 0, { points: [point('a', 1)], checkIds: true, idem: true });
    t.add(1, 0, { points: [point('b', 2)], checkIds: true });
    await t.scheduler.flush();
    expect(t.repository.checked).toEqual([['a', 'b']]);
    expect(t.repository.written.map((p) => p.id)).toEqual(['a', 'b']);
  });
});
