import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import type { FunnelConfig } from '@funnel/config';
import type { WirePoint } from '@funnel/contracts';
import { MetricsRegistry } from '@funnel/metrics';
import type {
  DeadLetter,
  DeadLettersRepository,
  PointsRepository,
  RollupDoc,
  RollupsRepository,
  SourcedPoint,
  StoredCopy,
} from '@funnel/storage';

import { FlushScheduler, flushDueAt } from './flush.scheduler.js';
import type { KafkaConsumerHost } from './kafka-consumer.host.js';
import type { PartitionFence } from './partition-fence.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import { PointsBuffer, type BufferedRecord } from './points-buffer.js';

type Commits = { topic: string; partition: number; offset: string }[];
const TOPIC = 'funnel.points';

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (and the scheduler's next step) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A PointsRepository stand-in whose insertMany the test controls. */
class FakeRepository {
  readonly calls: WirePoint[][] = [];
  readonly gates: Deferred[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** How each insertMany call ends; by default it succeeds at once. */
  behaviour: (call: number) => Promise<void> = async () => undefined;
  /** Ids existingIds reports as already stored, and what it was asked. */
  stored = new Set<string>();
  readonly checked: string[][] = [];
  /** Source record of every reading insertMany was given (what an insert that landed would store). */
  readonly srcs = new Map<string, string>();
  readonly timeouts: number[] = [];
  writeBudgetMs = 8000;

  constructor(private readonly log: string[]) {}

  /** Every call waits until the test resolves or rejects its gate. */
  manual(): void {
    this.behaviour = () => {
      const gate = deferred();
      this.gates.push(gate);
      return gate.promise;
    };
  }

  async insertMany(sourced: readonly SourcedPoint[], timeoutMS: number): Promise<number> {
    const points = sourced.map((p) => p.point);
    for (const p of sourced) this.srcs.set(p.point.id, p.src);
    this.timeouts.push(timeoutMS);
    const call = this.calls.length;
    this.calls.push([...points]);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.log.push(`write ${points.length}`);
    try {
      await this.behaviour(call);
      this.log.push('written');
      return points.length;
    } catch (error) {
      this.log.push('write failed');
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  async existingIds(points: readonly WirePoint[]): Promise<Map<string, StoredCopy>> {
    this.checked.push(points.map((p) => p.id));
    return new Map(
      points
        .filter((p) => this.stored.has(p.id))
        .map((p) => [
          p.id,
          { src: this.srcs.get(p.id), sensorId: p.sensorId, metric: p.metric, ts: p.ts, value: p.value },
        ]),
    );
  }

  get written(): WirePoint[] {
    return this.calls.flat();
  }
}

/** A RollupsRepository stand-in: keeps the documents like the collection would. */
class FakeRollups {
  readonly docs = new Map<string, RollupDoc>();
  readonly deletes: { partition: number; offset: number }[] = [];
  fail?: Error;

  constructor(private readonly log: string[]) {}

  async write(docs: readonly RollupDoc[]): Promise<void> {
    this.log.push(`rollups ${docs.length}`);
    if (this.fail) throw this.fail;
    for (const doc of docs) this.docs.set(doc._id, doc);
  }

  async deleteFrom(_topic: string, partition: number, offset: number): Promise<number> {
    this.log.push(`reset rollups ${partition}@${offset}`);
    this.deletes.push({ partition, offset });
    let n = 0;
    for (const [id, doc] of this.docs) {
      if (doc.p === partition && doc.o >= offset) n += Number(this.docs.delete(id));
    }
    return n;
  }

  /** Readings counted per series over all documents. */
  total(): { n: number; sum: number } {
    let n = 0;
    let sum = 0;
    for (const doc of this.docs.values()) {
      n += doc.n;
      sum += doc.sum;
    }
    return { n, sum };
  }
}

const registries: SchedulerRegistry[] = [];

type Settings = 'FLUSH_INTERVAL_MS' | 'FLUSH_MAX_POINTS' | 'BUFFER_HIGH_WATER' | 'SHUTDOWN_TIMEOUT_MS';

function setup(settings: Partial<Pick<FunnelConfig, Settings>>) {
  const log: string[] = [];
  const config = {
    FLUSH_INTERVAL_MS: 1000,
    FLUSH_MAX_POINTS: 1000,
    BUFFER_HIGH_WATER: 100_000,
    SHUTDOWN_TIMEOUT_MS: 10_000,
    ...settings,
  };
  const buffer = new PointsBuffer();
  const repository = new FakeRepository(log);
  const rollups = new FakeRollups(log);
  const server = {
    commit: jest.fn(async (commits: Commits) => {
      log.push(`commit ${JSON.stringify(sortCommits(commits))}`);
    }),
    pause: jest.fn((topics: string[]) => log.push(`pause ${topics.join(',')}`)),
    resume: jest.fn((topics: string[]) => log.push(`resume ${topics.join(',')}`)),
  };
  const deadLetters = {
    record: jest.fn(async (letters: readonly DeadLetter[]) => {
      if (letters.length > 0) log.push(`dead letters ${letters.map((l) => l._id).join(',')}`);
    }),
  };
  /** Partitions (numbers) another worker has claimed: announce answers false for them. */
  const claimedElsewhere = new Set<number>();
  const fence = {
    announce: jest.fn(async (_topic: string, partition: number, epoch: number, through: bigint) => {
      log.push(`announce ${partition}@${through} epoch ${epoch}`);
      return !claimedElsewhere.has(partition);
    }),
  };
  const registry = new SchedulerRegistry();
  registries.push(registry);
  const scheduler = new FlushScheduler(
    buffer,
    repository as unknown as PointsRepository,
    rollups as unknown as RollupsRepository,
    deadLetters as unknown as DeadLettersRepository,
    fence as unknown as PartitionFence,
    { topic: TOPIC, server } as unknown as KafkaConsumerHost,
    config as FunnelConfig,
    registry,
    new PipelineMetrics(new MetricsRegistry('worker', 'test')),
  );
  const nextOffset = new Map<number, number>();
  const added: BufferedRecord[] = [];
  let serial = 0;
  /** Buffers a record of `n` readings on `partition` at the next offset (what the consumer does, minus afterAdd). */
  const add = (partition: number, n: number, extra: Partial<BufferedRecord> = {}): BufferedRecord => {
    const offset = nextOffset.get(partition) ?? 0;
    nextOffset.set(partition, offset + 1);
    const points = Array.from({ length: n }, () => ({
      id: `r:test:${serial}`,
      sensorId: 's',
      metric: 'm',
      value: serial++,
      ts: 0,
    }));
    const record: BufferedRecord = {
      topic: TOPIC,
      partition,
      offset: String(offset),
      points,
      epoch: 1,
      checkIds: false,
      receivedAt: Date.now(),
      ...extra,
    };
    expect(buffer.add(record)).toBe(true);
    added.push(record);
    return record;
  };
  /** Like the consumer: buffer a record, then tell the scheduler. */
  const feed = (partition: number, n: number): BufferedRecord => {
    const record = add(partition, n);
    scheduler.afterAdd();
    return record;
  };
  return {
    log,
    config,
    buffer,
    repository,
    rollups,
    deadLetters,
    fence,
    claimedElsewhere,
    server,
    registry,
    scheduler,
    add,
    feed,
    added,
  };
}

function sortCommits(commits: Commits): Commits {
  return [...commits].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Independently computed: per partition, highest offset among `records` + 1. */
function expectedCommits(records: BufferedRecord[]): Commits {
  const top = new Map<number, number>();
  for (const r of records) top.set(r.partition, Math.max(top.get(r.partition) ?? -1, Number(r.offset)));
  return sortCommits([...top].map(([partition, offset]) => ({ topic: TOPIC, partition, offset: String(offset + 1) })));
}

/** The offsets committed so far: the latest committed offset per partition over every commit call. */
function committedSoFar(commit: { mock: { calls: [Commits][] } }): Commits {
  const latest = new Map<number, string>();
  for (const [commits] of commit.mock.calls) for (const c of commits) latest.set(c.partition, c.offset);
  return sortCommits([...latest].map(([partition, offset]) => ({ topic: TOPIC, partition, offset })));
}

beforeAll(() => {
  Logger.overrideLogger(false); // the scheduler's warnings are expected here
});

afterEach(() => {
  for (const registry of registries.splice(0)) {
    for (const name of registry.getIntervals()) registry.deleteInterval(name);
  }
  jest.restoreAllMocks();
});

describe('FlushScheduler.flush writes and then commits', () => {
  it('does nothing on an empty buffer', async () => {
    const t = setup({});
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([]);
    expect(t.server.commit).not.toHaveBeenCalled();
  });

  it('writes every buffered reading in order and commits highest offset + 1 per partition', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 1000 });
    t.add(0, 2);
    t.add(1, 3);
    t.add(0, 2);
    t.add(2, 0); // a rejected record: no readings, but its offset must be committed
    t.add(0, 1);
    t.add(1, 3);
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([t.added.flatMap((r) => r.points)]);
    expect(t.server.commit).toHaveBeenCalledTimes(1);
    expect(sortCommits(t.server.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
    expect(t.buffer.size).toBe(0);
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.scheduler.stats).toMatchObject({ flushes: 1, written: 11, failures: 0 });
  });

  it('drains the whole buffer in writes of about FLUSH_MAX_POINTS, committing after each write', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    for (let i = 0; i < 12; i++) t.add(i % 3, 1 + (i % 4));
    await t.scheduler.flush();
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(t.repository.calls.length).toBeGreaterThan(1);
    for (const call of t.repository.calls.slice(0, -1)) expect(call.length).toBeGreaterThanOrEqual(5);
    // write, written, rollups, commit, write, written, rollups, commit, ...
    const kinds = t.log.map((line) => line.split(' ')[0]).filter((kind) => kind !== 'announce' && kind !== 'reset');
    expect(kinds).toEqual(t.repository.calls.flatMap(() => ['write', 'written', 'rollups', 'commit']));
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
  });

  it('commits only after the write resolved', async () => {
    const t = setup({});
    t.repository.manual();
    t.add(0, 2);
    t.add(3, 1);
    const flushed = t.scheduler.flush();
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.server.commit).not.toHaveBeenCalled();
    t.repository.gates[0].resolve();
    await flushed;
    expect(t.log).toEqual([
      'announce 0@0 epoch 1',
      'announce 3@0 epoch 1',
      'reset rollups 0@0',
      'reset rollups 3@0',
      'write 3',
      'written',
      'rollups 2',
      `commit ${JSON.stringify(expectedCommits(t.added))}`,
    ]);
  });

  it('survives a failed commit after a successful write without writing the readings again', async () => {
    const t = setup({});
    t.server.commit.mockRejectedValueOnce(new Error('rebalance in progress'));
    t.add(0, 3);
    await expect(t.scheduler.flush()).resolves.toBeUndefined();
    expect(t.buffer.pendingRecords).toBe(0);
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.scheduler.stats.written).toBe(3);
  });
});

describe('FlushScheduler runs one flush at a time', () => {
  it('never has two insertMany calls in flight, whatever calls flush() concurrently', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 3 });
    t.repository.behaviour = () => sleep(3);
    for (let i = 0; i < 10; i++) t.add(i % 2, 1);
    const calls = [t.scheduler.flush(), t.scheduler.flush(), t.scheduler.flush()];
    for (let i = 0; i < 10; i++) {
      t.feed(i % 3, 2); // afterAdd asks for flushes too
      calls.push(t.scheduler.flush());
      await sleep(1);
    }
    await Promise.all(calls);
    await t.scheduler.flush();
    expect(t.repository.maxInFlight).toBe(1);
    // every reading written exactly once, in arrival order
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
  });

  it('makes a flush() called during a flush wait for it', async () => {
    const t = setup({});
    t.repository.manual();
    t.add(0, 1);
    const first = t.scheduler.flush();
    let secondDone = false;
    const second = t.scheduler.flush().then(() => (secondDone = true));
    await settle();
    expect(secondDone).toBe(false);
    t.repository.gates[0].resolve();
    await Promise.all([first, second]);
    expect(secondDone).toBe(true);
    expect(t.repository.calls).toHaveLength(1);
  });
});

describe('FlushScheduler.afterAdd', () => {
  it('flushes as soon as the buffer holds FLUSH_MAX_POINTS readings, not before', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    for (let i = 0; i < 4; i++) t.feed(0, 1);
    await settle();
    expect(t.repository.calls).toHaveLength(0);
    t.feed(1, 1);
    await settle();
    expect(t.repository.calls).toEqual([t.added.flatMap((r) => r.points)]);
    expect(sortCommits(t.server.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
  });

  it('flushes when one record alone reaches FLUSH_MAX_POINTS', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 5 });
    t.feed(0, 7);
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.repository.calls[0]).toHaveLength(7);
  });
});

describe('FlushScheduler write failures', () => {
  it('puts the batch back, commits nothing, retries only after the backoff, then commits', async () => {
    let clock = 5_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 1000, FLUSH_MAX_POINTS: 1000 });
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('mongo down');
    };
    t.add(0, 2);
    t.add(1, 2);
    t.add(0, 2);
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.server.commit).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(6);
    expect(t.buffer.pendingRecords).toBe(3);
    expect(t.scheduler.stats).toMatchObject({ failures: 1, written: 0, lastError: 'mongo down' });

    clock += 999;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(1); // still backing off

    clock += 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(2);
    expect(t.repository.calls[1]).toEqual(t.repository.calls[0]); // the same readings, same order
    expect(t.server.commit).toHaveBeenCalledTimes(1);
    expect(sortCommits(t.server.commit.mock.calls[0][0])).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
  });

  it('keeps readings that arrive during a failing write behind the failed batch', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1, FLUSH_MAX_POINTS: 2 });
    t.repository.manual();
    t.add(0, 2);
    const flushed = t.scheduler.flush();
    await settle();
    t.add(0, 2); // arrives while the first write is in flight
    t.repository.gates[0].reject(new Error('timeout'));
    await flushed;
    expect(t.buffer.size).toBe(4);
    await sleep(5); // past the 1 ms backoff
    t.repository.behaviour = async () => undefined;
    await t.scheduler.flush();
    expect(t.repository.calls.slice(1).flat()).toEqual(t.added.flatMap((r) => r.points));
  });

  it('doubles the backoff with each consecutive failure (capped at 30 s) and resets it after a success', async () => {
    let clock = 10_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const interval = 1000;
    const t = setup({ FLUSH_INTERVAL_MS: interval });
    let failing = true;
    t.repository.behaviour = async () => {
      if (failing) throw new Error('down');
    };
    t.add(0, 1);
    await t.scheduler.flush(); // failure 1
    let calls = 1;
    let delay = interval;
    for (let failure = 2; failure <= 8; failure++) {
      clock += delay - 1;
      await t.scheduler.flush();
      expect({ failure, calls: t.repository.calls.length }).toEqual({ failure, calls }); // not yet
      clock += 1;
      await t.scheduler.flush();
      expect({ failure, calls: t.repository.calls.length }).toEqual({ failure, calls: ++calls }); // retried now
      delay = Math.min(delay * 2, 30_000);
    }
    expect(delay).toBe(30_000); // the loop really reached the cap
    failing = false;
    clock += delay;
    await t.scheduler.flush();
    expect(t.server.commit).toHaveBeenCalledTimes(1);

    failing = true;
    t.add(0, 1);
    await t.scheduler.flush(); // first failure after a success
    clock += interval - 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(calls + 2);
    clock += 1;
    await t.scheduler.flush();
    expect(t.repository.calls).toHaveLength(calls + 3);
  });
});

describe('FlushScheduler backpressure', () => {
  it('pauses at BUFFER_HIGH_WATER and resumes once a write leaves the buffer below half of it', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 4, BUFFER_HIGH_WATER: 10 });
    t.repository.manual();
    for (let i = 0; i < 4; i++) t.feed(0, 1); // starts write #1 of 4, buffer empty again
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    for (let i = 0; i < 9; i++) t.feed(1, 1);
    expect(t.buffer.size).toBe(9);
    expect(t.server.pause).not.toHaveBeenCalled();
    t.feed(1, 1);
    expect(t.buffer.size).toBe(10);
    expect(t.server.pause).toHaveBeenCalledTimes(1);
    expect(t.server.pause).toHaveBeenCalledWith([TOPIC]);
    t.feed(2, 3);
    expect(t.server.pause).toHaveBeenCalledTimes(1); // not again while paused

    t.repository.gates[0].resolve(); // buffer holds 13 >= 5: stay paused; write #2 takes 4
    await settle();
    expect(t.server.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(9);
    t.repository.gates[1].resolve(); // buffer holds 9 >= 5: stay paused; write #3 takes 4
    await settle();
    expect(t.server.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(5);
    t.repository.gates[2].resolve(); // buffer holds exactly half (5), not below it: stay paused
    await settle();
    expect(t.server.resume).not.toHaveBeenCalled();
    expect(t.buffer.size).toBe(0);
    t.repository.gates[3].resolve(); // buffer holds 0 < 5: resume
    await settle();
    expect(t.server.resume).toHaveBeenCalledTimes(1);
    expect(t.server.resume).toHaveBeenCalledWith([TOPIC]);

    for (let i = 0; i < 14; i++) t.feed(0, 1); // the 4th starts write #5; while it is in flight, 10 more
    expect(t.server.pause).toHaveBeenCalledTimes(2);
    await settle();
    expect(t.repository.gates).toHaveLength(5);
    for (let i = 4; t.repository.gates.length > i || t.buffer.pendingRecords > 0; i++) {
      await settle();
      t.repository.gates[i]?.resolve();
    }
    await t.scheduler.flush();
    expect(t.server.resume).toHaveBeenCalledTimes(2);
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  });

  it('pauses when failing writes keep the buffer full, and resumes once the retry drains it', async () => {
    let clock = 1_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100, FLUSH_MAX_POINTS: 4, BUFFER_HIGH_WATER: 8 });
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('down');
    };
    for (let i = 0; i < 4; i++) t.feed(0, 1); // write fails, batch put back
    await settle();
    expect(t.buffer.size).toBe(4);
    for (let i = 0; i < 4; i++) t.feed(0, 1); // backing off: nothing is written
    await settle();
    expect(t.repository.calls).toHaveLength(1);
    expect(t.server.pause).toHaveBeenCalledTimes(1);
    clock += 100;
    await t.scheduler.flush();
    expect(t.buffer.size).toBe(0);
    expect(t.server.resume).toHaveBeenCalledTimes(1);
    expect(t.log.indexOf(`pause ${TOPIC}`)).toBeLessThan(t.log.indexOf(`resume ${TOPIC}`));
  });
});

describe('FlushScheduler fencing, id checks and dead letters', () => {
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
    t.claimedElsewhere.add(1);
    const mine = [t.add(0, 2), t.add(0, 1)];
    t.add(1, 3);
    t.add(1, 1);
    await t.scheduler.flush();
    expect(t.repository.written).toEqual(mine.flatMap((r) => r.points));
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(mine));
    expect(t.buffer.pendingRecords).toBe(0); // left to the new owner, not retried here
    expect(t.scheduler.stats.fenced).toBe(2);
  });

  it('after a failed write, puts back only the records of partitions it still owns', async () => {
    const t = setup({});
    t.claimedElsewhere.add(1);
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
    t.claimedElsewhere.add(0);
    t.add(0, 2);
    await t.scheduler.flush();
    expect(t.repository.written).toEqual([]);
    expect(t.server.commit).not.toHaveBeenCalled();
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
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
    expect(t.scheduler.stats).toMatchObject({ written: 4, duplicatesDropped: 1 });
  });

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
    expect(t.scheduler.stats.duplicatesDropped).toBe(1);
  });

  it('records dead letters with the batch and commits their offsets afterwards', async () => {
    const t = setup({});
    const letter = { _id: `${TOPIC}:0:1`, reason: 'value is not JSON' } as DeadLetter;
    t.add(0, 2);
    t.add(0, 0, { deadLetter: letter });
    await t.scheduler.flush();
    expect(t.deadLetters.record).toHaveBeenCalledWith([letter]);
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
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
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits([record]));
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
    expect(t.server.commit).not.toHaveBeenCalled();
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([record.points, []]);
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
  });
});

describe('FlushScheduler.onAssignment', () => {
  it('lets a write in flight finish and commit before it starts over', async () => {
    const t = setup({});
    t.repository.manual();
    const record = t.add(0, 2);
    const flushed = t.scheduler.flush();
    await settle();
    let done = false;
    const assigned = t.scheduler.onAssignment().then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    t.repository.gates[0].resolve();
    await Promise.all([flushed, assigned]);
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits([record]));
  });

  it('drops what is buffered (Kafka redelivers it) and resumes consumption paused for backpressure', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_MAX_POINTS: 2, BUFFER_HIGH_WATER: 4 });
    t.repository.behaviour = async () => {
      throw new Error('down');
    };
    t.feed(0, 2); // the write fails: backing off
    await settle();
    t.feed(1, 1);
    t.feed(1, 1);
    expect(t.server.pause).toHaveBeenCalledTimes(1);
    await t.scheduler.onAssignment();
    expect(t.buffer.size).toBe(0);
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.server.resume).toHaveBeenCalledTimes(1);
    expect(t.server.commit).not.toHaveBeenCalled();
    expect(t.buffer.add({ ...t.added[0] })).toBe(true); // the redelivery is taken in again
  });
});

describe('FlushScheduler interval and shutdown', () => {
  it('flushes every FLUSH_INTERVAL_MS once initialised', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 20 });
    t.scheduler.onModuleInit();
    expect(t.registry.getIntervals()).toEqual(['flush']);
    t.add(0, 3); // below FLUSH_MAX_POINTS: only the interval writes it
    for (let waited = 0; t.server.commit.mock.calls.length === 0 && waited < 2000; waited += 10) await sleep(10);
    expect(t.repository.calls).toEqual([t.added[0].points]);
    t.add(1, 1);
    for (let waited = 0; t.server.commit.mock.calls.length < 2 && waited < 2000; waited += 10) await sleep(10);
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  });

  it('starts a flush early by the time the last write took, so the readings are stored by FLUSH_INTERVAL_MS', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1000 });
    const WRITE_MS = 400;
    const starts: number[] = [];
    t.repository.behaviour = async () => {
      starts.push(Date.now());
      await sleep(WRITE_MS);
    };
    t.scheduler.onModuleInit();
    const first = t.add(0, 3).receivedAt;
    for (let waited = 0; t.server.commit.mock.calls.length === 0 && waited < 5000; waited += 10) await sleep(10);
    // No write to go by yet: the first starts once its reading was received FLUSH_INTERVAL_MS ago.
    expect(starts[0]! - first).toBeGreaterThanOrEqual(1000);
    const second = t.add(1, 3).receivedAt;
    for (let waited = 0; t.server.commit.mock.calls.length < 2 && waited < 5000; waited += 10) await sleep(10);
    // The last write took >= 400 ms (same size): this one starts at >= 600 ms, well before 1000 ms.
    const lead = starts[1]! - second;
    expect({ lead, early: lead >= 550 && lead < 950 }).toEqual({ lead, early: true });
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
  }, 15_000);

  it('counts the time since the api received a record: one that waited in Kafka is written sooner', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 1000 });
    t.scheduler.onModuleInit();
    t.add(0, 3, { receivedAt: Date.now() - 900 });
    await sleep(300);
    expect(t.repository.calls).toHaveLength(1);
    // ...and one whose receipt time lies ahead of this clock waits from when it entered the buffer.
    t.add(1, 3, { receivedAt: Date.now() + 60_000 });
    await sleep(500);
    expect(t.repository.calls).toHaveLength(1);
    for (let waited = 0; t.repository.calls.length < 2 && waited < 3000; waited += 10) await sleep(10);
    expect(t.repository.calls).toHaveLength(2);
  }, 10_000);

  it('flushes what is buffered on shutdown, pauses consumption and removes the interval', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 60_000, FLUSH_MAX_POINTS: 3 });
    t.scheduler.onModuleInit();
    for (let i = 0; i < 7; i++) t.add(i % 2, 1);
    t.add(2, 0);
    await t.scheduler.beforeApplicationShutdown();
    expect(t.repository.written).toEqual(t.added.flatMap((r) => r.points));
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
    expect(t.buffer.pendingRecords).toBe(0);
    expect(t.server.pause).toHaveBeenCalledWith([TOPIC]);
    expect(t.server.resume).not.toHaveBeenCalled();
    expect(t.registry.getIntervals()).toEqual([]);
    expect(t.log[0]).toBe(`pause ${TOPIC}`); // consumption stops before the final writes
  });

  it('retries a failing write on shutdown despite the backoff', async () => {
    const t = setup({ FLUSH_INTERVAL_MS: 60_000 });
    t.scheduler.onModuleInit();
    t.repository.behaviour = async (call) => {
      if (call === 0) throw new Error('primary stepping down');
    };
    t.add(0, 2);
    await t.scheduler.beforeApplicationShutdown(); // waits ~0.5 s before its retry
    expect(t.repository.calls).toHaveLength(2);
    expect(t.server.commit).toHaveBeenCalledTimes(1);
    expect(t.buffer.pendingRecords).toBe(0);
  });

  it('does not resume consumption that was paused for backpressure once shutting down', async () => {
    const t = setup({ FLUSH_MAX_POINTS: 100, BUFFER_HIGH_WATER: 4 });
    t.scheduler.onModuleInit();
    for (let i = 0; i < 4; i++) t.feed(0, 1);
    expect(t.server.pause).toHaveBeenCalledTimes(1);
    await t.scheduler.beforeApplicationShutdown();
    expect(t.buffer.size).toBe(0);
    expect(t.server.resume).not.toHaveBeenCalled();
  });
});

describe('FlushScheduler minute rollups', () => {
  const MINUTE = 60_000;
  const point = (id: string, value: number, ts: number, sensorId = 's'): WirePoint => ({
    id,
    sensorId,
    metric: 'm',
    value,
    ts,
  });

  it("writes each slice's rollups, keyed by its first offset, after the readings and before the commit", async () => {
    const t = setup({});
    t.add(0, 0, { points: [point('a', 1, 5), point('b', 4, MINUTE - 1), point('c', -2, MINUTE)] });
    t.add(1, 0, { points: [point('d', 7, 10, 'other')] });
    t.add(0, 0, { points: [point('e', 3, 30)] });
    await t.scheduler.flush();
    const docs = [...t.rollups.docs.values()].sort((x, y) => x._id.localeCompare(y._id));
    expect(
      docs.map(({ _id, o, s, ts, n, sum, min, max }) => ({ _id, o, s, ts: ts.getTime(), n, sum, min, max })),
    ).toEqual([
      { _id: `${TOPIC}:0:0:s:m:0`, o: 0, s: 's', ts: 0, n: 3, sum: 8, min: 1, max: 4 },
      { _id: `${TOPIC}:0:0:s:m:60000`, o: 0, s: 's', ts: MINUTE, n: 1, sum: -2, min: -2, max: -2 },
      { _id: `${TOPIC}:1:0:other:m:0`, o: 0, s: 'other', ts: 0, n: 1, sum: 7, min: 7, max: 7 },
    ]);
    const at = (prefix: string) => t.log.findIndex((l) => l.startsWith(prefix));
    expect(at('written')).toBeLessThan(at('rollups'));
    expect(at('rollups')).toBeLessThan(at('commit'));
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
    expect(t.server.commit).not.toHaveBeenCalled();
    t.rollups.fail = undefined;
    const second = t.add(0, 2); // the retried batch covers one more record under the same key
    clock += 100;
    await t.scheduler.flush();
    expect(t.repository.calls).toEqual([first.points, second.points]);
    const sum = [...first.points, ...second.points].reduce((s, p) => s + p.value, 0);
    expect(t.rollups.total()).toEqual({ n: 5, sum });
    expect(committedSoFar(t.server.commit)).toEqual(expectedCommits(t.added));
  });

  it('writes no rollups and deletes none for a partition claimed by another worker', async () => {
    const t = setup({});
    t.claimedElsewhere.add(1);
    t.add(0, 1);
    t.add(1, 2);
    await t.scheduler.flush();
    expect(t.rollups.deletes).toEqual([{ partition: 0, offset: 0 }]);
    expect([...t.rollups.docs.values()].map((d) => d.p)).toEqual([0]);
  });

  it('gives every write only the budget left since the announcement, and fails the batch once it is spent', async () => {
    let clock = 1_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => clock);
    const t = setup({ FLUSH_INTERVAL_MS: 100 });
    t.repository.writeBudgetMs = 1000;
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
    expect(t.server.commit).toHaveBeenCalledTimes(1);
    expect(t.buffer.pendingRecords).toBe(1);
  });
});

describe('flushDueAt', () => {
  const config = { FLUSH_INTERVAL_MS: 2000, FLUSH_MAX_POINTS: 20_000 };

  it('is FLUSH_INTERVAL_MS after the oldest record was taken in when no write was made yet', () => {
    expect(flushDueAt(10_000, 500, config)).toBe(12_000);
    expect(flushDueAt(10_000, 500, config, { ms: 300, points: 0 })).toBe(12_000);
  });

  it("subtracts the last write's time, scaled up to the next batch's readings but never down", () => {
    // 8,000 readings took 400 ms: 16,000 are expected to take 800 ms, 2,000 at least the same 400 ms.
    expect(flushDueAt(10_000, 16_000, config, { ms: 400, points: 8000 })).toBe(10_000 + 2000 - 800);
    expect(flushDueAt(10_000, 2000, config, { ms: 400, points: 8000 })).toBe(10_000 + 2000 - 400);
    // The next batch holds at most FLUSH_MAX_POINTS, however much is buffered.
    expect(flushDueAt(10_000, 90_000, config, { ms: 400, points: 10_000 })).toBe(10_000 + 2000 - 800);
  });

  it('is due at once (never before the oldest record came in) when a write takes the whole interval or more', () => {
    expect(flushDueAt(10_000, 20_000, config, { ms: 5000, points: 20_000 })).toBe(10_000);
    expect(flushDueAt(10_000, 20_000, config, { ms: 2000, points: 20_000 })).toBe(10_000);
  });
});
