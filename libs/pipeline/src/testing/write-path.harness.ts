// The worker's write path assembled from its real parts over typed fakes of storage, fence and consumer, for specs.
import { afterEach, beforeAll, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';

import type { FunnelConfig } from '@funnel/config';
import { readingKey, type WirePoint } from '@funnel/contracts';
import type { ConsumptionSwitch, GroupMembership, NextOffset, OffsetCommitter } from '@funnel/kafka';
import { MetricsRegistry } from '@funnel/metrics';
import {
  ReadingsStoredMeanwhile,
  sliceMinuteStats,
  sliceMinutes,
  type DeadLetter,
  type SliceDoc,
  type SourcedPoint,
  type StoredCopy,
} from '@funnel/storage';

import { AssignmentTracker } from '../assignment.tracker.js';
import { Backpressure } from '../backpressure.js';
import { BatchFlusher } from '../batch.flusher.js';
import { BatchWriter, type DeadLetterStore, type ReadingsStore, type RollupsStore } from '../batch.writer.js';
import { BufferIntake } from '../buffer.intake.js';
import { FlushScheduler } from '../flush.scheduler.js';
import type { WriteFence } from '../partition-fence.js';
import { PipelineMetrics } from '../pipeline.metrics.js';
import { PointsBuffer, type BufferedRecord } from '../points-buffer.js';
import { ProgressClock } from '../progress.clock.js';
import { UNLIMITED_ROOM } from '../write-room.js';

export type Commits = NextOffset[];
export const TOPIC = 'funnel.points';

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending promise callbacks (and the scheduler's next step) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

export { setTimeout as sleep } from 'node:timers/promises';

/** A readings collection whose insertMany the test controls. */
export class FakeReadings implements ReadingsStore {
  readonly calls: WirePoint[][] = [];
  readonly gates: Deferred[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** How each insertMany call ends; by default it succeeds at once. */
  behaviour: (call: number) => Promise<void> = async () => undefined;
  /** Ids existingIds reports as already stored, and what it was asked. */
  stored = new Set<string>();
  readonly checked: string[][] = [];
  /** The lookback (ms) of each existingIds call. */
  readonly lookbacks: number[] = [];
  /** Source record of every reading insertMany was given (what an insert that landed would store). */
  readonly srcs = new Map<string, string>();
  readonly timeouts: number[] = [];
  /**
   * As a regular collection whose `_id` is the reading key: insertMany refuses readings whose id is `stored`
   * (ReadingsStoredMeanwhile, after storing the others) and marks what it inserted as stored.
   */
  refusesRepeats = false;

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
    const refused = this.refusesRepeats ? sourced.flatMap((p, i) => (this.stored.has(p.point.id) ? [i] : [])) : [];
    for (const p of sourced) {
      if (this.refusesRepeats && this.stored.has(p.point.id)) continue;
      this.srcs.set(p.point.id, p.src);
      if (this.refusesRepeats) this.stored.add(p.point.id);
    }
    this.timeouts.push(timeoutMS);
    const call = this.calls.length;
    this.calls.push([...points]);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.log.push(`write ${points.length}`);
    try {
      await this.behaviour(call);
      if (refused.length > 0) {
        throw new ReadingsStoredMeanwhile(refused.length, new Error('E11000 duplicate key error'), refused);
      }
      this.log.push('written');
      return points.length;
    } catch (error) {
      this.log.push('write failed');
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  async existingIds(points: readonly WirePoint[], lookbackMs = 0): Promise<Map<string, StoredCopy>> {
    this.checked.push(points.map((p) => p.id));
    this.lookbacks.push(lookbackMs);
    return new Map(
      points
        .filter((p) => this.stored.has(p.id))
        .map((p) => [
          readingKey(p),
          { src: this.srcs.get(p.id), sensorId: p.sensorId, metric: p.metric, ts: p.ts, value: p.value },
        ]),
    );
  }

  get written(): WirePoint[] {
    return this.calls.flat();
  }
}

/** A rollups collection: keeps the documents like the collection would. */
export class FakeRollups implements RollupsStore {
  readonly docs = new Map<string, SliceDoc>();
  readonly deletes: { partition: number; offset: number }[] = [];
  fail?: Error;

  constructor(private readonly log: string[]) {}

  async writeSlices(docs: readonly SliceDoc[]): Promise<void> {
    this.log.push(`rollups ${docs.length}`);
    if (this.fail) throw this.fail;
    for (const doc of docs) this.docs.set(doc._id, doc);
  }

  async deleteSlicesFrom(_topic: string, partition: number, offset: number): Promise<number> {
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
      for (const minute of sliceMinutes(doc)) {
        const stats = sliceMinuteStats(minute);
        n += stats.n;
        sum += stats.sum;
      }
    }
    return { n, sum };
  }
}

/** A dead-letters collection that logs what it records. */
export class FakeDeadLetters implements DeadLetterStore {
  constructor(private readonly log: string[]) {}

  readonly record = jest.fn(async (letters: readonly DeadLetter[]) => {
    if (letters.length > 0) this.log.push(`dead letters ${letters.map((l) => l._id).join(',')}`);
  });
}

/** A fence whose announce answers false for partitions another worker has claimed. */
export class FakeFence implements WriteFence {
  /** Partitions (numbers) another worker has claimed. */
  readonly claimedElsewhere = new Set<number>();
  resets = 0;

  constructor(private readonly log: string[]) {}

  readonly announce = jest.fn(async (_topic: string, partition: number, epoch: number, through: bigint) => {
    this.log.push(`announce ${partition}@${through} epoch ${epoch}`);
    return !this.claimedElsewhere.has(partition);
  });

  reset(): void {
    this.resets++;
  }
}

/** The readings topic's consumer: logs pauses, resumes and commits; `join` plays a group join. */
export class FakeConsumer implements ConsumptionSwitch, OffsetCommitter, GroupMembership {
  private readonly listeners: Array<() => void> = [];

  constructor(private readonly log: string[]) {}

  readonly commit = jest.fn(async (commits: Commits) => {
    this.log.push(`commit ${JSON.stringify(sortCommits(commits))}`);
  });

  readonly pause = jest.fn(() => {
    this.log.push(`pause ${TOPIC}`);
  });

  readonly resume = jest.fn(() => {
    this.log.push(`resume ${TOPIC}`);
  });

  onGroupJoin(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** The consumer joined its group with a new assignment. */
  join(): void {
    this.listeners.forEach((listener) => listener());
  }
}

const registries: SchedulerRegistry[] = [];

/**
 * Registers a spec file's hooks: the write path's warnings are expected, so logging is off; after each test
 * the intervals its schedulers added are removed and mocked clocks restored.
 */
export function useWritePathHooks(): void {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterEach(() => {
    for (const registry of registries.splice(0)) {
      for (const name of registry.getIntervals()) registry.deleteInterval(name);
    }
    jest.restoreAllMocks();
  });
}

type Settings =
  'FLUSH_INTERVAL_MS' | 'FLUSH_MAX_POINTS' | 'BUFFER_HIGH_WATER' | 'SHUTDOWN_TIMEOUT_MS' | 'DEDUP_SETTLE_MS';

/** The write path over fresh fakes, with these settings over test defaults. */
export function setup(settings: Partial<Pick<FunnelConfig, Settings>>) {
  const log: string[] = [];
  const config = {
    FLUSH_INTERVAL_MS: 1000,
    FLUSH_MAX_POINTS: 1000,
    BUFFER_HIGH_WATER: 100_000,
    SHUTDOWN_TIMEOUT_MS: 10_000,
    // a write budget of 8 s after each announcement
    DEDUP_SETTLE_MS: 10_000,
    IDEMPOTENCY_WINDOW_MS: 60_000,
    ...settings,
  } as FunnelConfig;
  const metrics = new PipelineMetrics(new MetricsRegistry('worker', 'test'));
  const buffer = new PointsBuffer();
  const repository = new FakeReadings(log);
  const rollups = new FakeRollups(log);
  const deadLetters = new FakeDeadLetters(log);
  const fence = new FakeFence(log);
  const consumer = new FakeConsumer(log);
  const progress = new ProgressClock();
  const registry = new SchedulerRegistry();
  registries.push(registry);
  const writer = new BatchWriter(repository, rollups, deadLetters, fence, config, metrics);
  const flusher = new BatchFlusher(buffer, writer, consumer, progress, config, metrics, UNLIMITED_ROOM);
  const backpressure = new Backpressure(buffer, consumer, config, metrics);
  const scheduler = new FlushScheduler(buffer, flusher, backpressure, config, registry);
  const intake = new BufferIntake(buffer, scheduler, backpressure, progress);
  const tracker = new AssignmentTracker(consumer, fence, scheduler, flusher, backpressure, progress);
  tracker.onModuleInit();
  const nextOffset = new Map<number, number>();
  const added: BufferedRecord[] = [];
  let serial = 0;
  const record = (partition: number, n: number, extra: Partial<BufferedRecord>): BufferedRecord => {
    const offset = nextOffset.get(partition) ?? 0;
    nextOffset.set(partition, offset + 1);
    const points = Array.from({ length: n }, () => ({
      id: `r:test:${serial}`,
      sensorId: 's',
      metric: 'm',
      value: serial++,
      ts: 0,
    }));
    return {
      topic: TOPIC,
      partition,
      offset: String(offset),
      points,
      epoch: 1,
      checkIds: false,
      receivedAt: Date.now(),
      ...extra,
    };
  };
  /** Buffers a record of `n` readings on `partition` at the next offset (what the intake does, minus its signals). */
  const add = (partition: number, n: number, extra: Partial<BufferedRecord> = {}): BufferedRecord => {
    const r = record(partition, n, extra);
    if (!buffer.add(r)) throw new Error(`record ${partition}@${r.offset} refused by the buffer`);
    added.push(r);
    return r;
  };
  /** Like the consumer: the record goes through the intake, which tells the scheduler and backpressure. */
  const feed = (partition: number, n: number): BufferedRecord => {
    const r = record(partition, n, {});
    if (!intake.take(r)) throw new Error(`record ${partition}@${r.offset} refused by the intake`);
    added.push(r);
    return r;
  };
  return {
    log,
    config,
    buffer,
    repository,
    rollups,
    deadLetters,
    fence,
    consumer,
    progress,
    registry,
    writer,
    flusher,
    backpressure,
    scheduler,
    intake,
    tracker,
    add,
    feed,
    added,
  };
}

export type WritePath = ReturnType<typeof setup>;

export function sortCommits(commits: Commits): Commits {
  return [...commits].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** Independently computed: per partition, highest offset among `records` + 1. */
export function expectedCommits(records: BufferedRecord[]): Commits {
  const top = new Map<number, number>();
  for (const r of records) top.set(r.partition, Math.max(top.get(r.partition) ?? -1, Number(r.offset)));
  return sortCommits([...top].map(([partition, offset]) => ({ topic: TOPIC, partition, offset: String(offset + 1) })));
}

/** The offsets committed so far: the latest committed offset per partition over every commit call. */
export function committedSoFar(commit: { mock: { calls: [Commits][] } }): Commits {
  const latest = new Map<number, string>();
  for (const [commits] of commit.mock.calls) for (const c of commits) latest.set(c.partition, c.offset);
  return sortCommits([...latest].map(([partition, offset]) => ({ topic: TOPIC, partition, offset })));
}

/** Plays a group join (a new assignment) and resolves once the write path has started over. */
export function assign(t: WritePath): Promise<void> {
  t.consumer.join();
  return t.tracker.settled();
}
