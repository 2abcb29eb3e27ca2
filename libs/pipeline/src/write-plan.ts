// Decides what a batch writes: which ids to look up, which readings to insert, and the minute rollups they make.
import { readingKey, type WirePoint } from '@funnel/contracts';
import { MINUTE_MS, type RollupDoc, type SourcedPoint, type StoredCopy } from '@funnel/storage';

/** Where a stored reading came from: `<partition>:<offset>` of its Kafka record. */
export function sourceOf(partition: number, offset: string): string {
  return `${partition}:${offset}`;
}

/** The part of a buffered record the write plan needs. */
export interface PlannedRecord {
  topic: string;
  partition: number;
  offset: string;
  points: readonly WirePoint[];
  checkIds: boolean;
}

/** What a batch writes, as planWrite decides it. */
export interface WritePlan {
  /** Readings to insert, first copy of each id in batch order. */
  insert: SourcedPoint[];
  /** Rollups of the readings that count, per slice, series and minute. */
  rollups: RollupDoc[];
  /** Copies not inserted: repeats inside the batch and ids already stored. */
  duplicates: number;
}

/** The readings whose ids must be looked up: the first copy of each id of which some copy is in a checked record. */
export function pointsToCheck(records: readonly PlannedRecord[]): WirePoint[] {
  // Fresh traffic (nothing replayed, no client ids) checks nothing: skip the per-reading bookkeeping.
  if (!records.some((r) => r.checkIds)) return [];
  const first = new Map<string, WirePoint>();
  const check = new Set<string>();
  for (const record of records) {
    for (const point of record.points) {
      const key = readingKey(point);
      if (!first.has(key)) first.set(key, point);
      if (record.checkIds) check.add(key);
    }
  }
  return [...check].map((key) => first.get(key)!);
}

/**
 * What a batch writes, given what the id check found stored (`stored`, by readingKey; only checked records).
 *
 * Each id is stored once per (sensorId, metric): if it is not stored yet its first copy in the batch is
 * inserted. It counts in the rollups of the slice of the record it is stored from: the inserting record, or, when it was already stored,
 * the record of this batch whose `<partition>:<offset>` equals the stored source (a replay of a write that
 * landed before a crash, whose rollup is being recomputed). An id stored by another record (a client retry
 * under the same Idempotency-Key, a record committed earlier) counts where that record was rolled up.
 * Counted readings take the stored copy's series, time and value, so rollups mirror the raw collection.
 */
export function planWrite(records: readonly PlannedRecord[], stored: ReadonlyMap<string, StoredCopy>): WritePlan {
  if (stored.size === 0) {
    return planFresh(records);
  }
  /** Per reading key: its copies' records in batch order, and its first copy. */
  const byId = new Map<string, { first: WirePoint; firstRecord: PlannedRecord; srcs: Map<string, PlannedRecord> }>();
  let copies = 0;
  for (const record of records) {
    const src = sourceOf(record.partition, record.offset);
    for (const point of record.points) {
      copies++;
      const key = readingKey(point);
      const entry = byId.get(key);
      if (!entry) {
        byId.set(key, { first: point, firstRecord: record, srcs: new Map([[src, record]]) });
      } else if (!entry.srcs.has(src)) {
        entry.srcs.set(src, record);
      }
    }
  }
  const insert: SourcedPoint[] = [];
  const rollups = new RollupBuilder(firstOffsets(records));
  for (const [key, entry] of byId) {
    const copy = stored.get(key);
    if (!copy) {
      const src = sourceOf(entry.firstRecord.partition, entry.firstRecord.offset);
      insert.push({ point: entry.first, src });
      rollups.add(entry.firstRecord, entry.first.sensorId, entry.first.metric, entry.first.ts, entry.first.value);
      continue;
    }
    const own = copy.src === undefined ? undefined : entry.srcs.get(copy.src);
    if (own) {
      rollups.add(own, copy.sensorId, copy.metric, copy.ts, copy.value);
    }
  }
  return { insert, rollups: rollups.docs(), duplicates: copies - insert.length };
}

/**
 * planWrite when nothing is stored yet (fresh traffic, the common case): the first copy of each id is
 * inserted and counted in its own record's slice, as planWrite would, without its per-id record maps.
 */
function planFresh(records: readonly PlannedRecord[]): WritePlan {
  const rollups = new RollupBuilder(firstOffsets(records));
  const seen = new Set<string>();
  const insert: SourcedPoint[] = [];
  let copies = 0;
  for (const record of records) {
    const src = sourceOf(record.partition, record.offset);
    const slice = rollups.slice(record);
    for (const point of record.points) {
      copies++;
      const key = readingKey(point);
      if (seen.has(key)) continue;
      seen.add(key);
      insert.push({ point, src });
      slice.add(point.sensorId, point.metric, point.ts, point.value);
    }
  }
  return { insert, rollups: rollups.docs(), duplicates: copies - insert.length };
}

/** Lowest offset per topic-partition of the batch: the key of each partition's slice. */
function firstOffsets(records: readonly PlannedRecord[]): Map<string, bigint> {
  const first = new Map<string, bigint>();
  for (const record of records) {
    const key = `${record.topic}:${record.partition}`;
    const offset = BigInt(record.offset);
    const seen = first.get(key);
    if (seen === undefined || offset < seen) first.set(key, offset);
  }
  return first;
}

/** Rollups of one slice (one topic-partition of the batch); keys share the slice's prefix. */
class SliceRollups {
  constructor(
    private readonly byKey: Map<string, RollupDoc>,
    private readonly topic: string,
    private readonly partition: number,
    private readonly first: bigint,
    private readonly prefix: string,
  ) {}

  add(sensorId: string, metric: string, ts: number, value: number): void {
    // ts is non-negative epoch ms (the record decoder refuses anything else).
    const minute = ts - (ts % MINUTE_MS);
    const key = `${this.prefix}${sensorId}:${metric}:${minute}`;
    const doc = this.byKey.get(key);
    if (!doc) {
      this.byKey.set(key, {
        _id: key,
        t: this.topic,
        p: this.partition,
        o: Number(this.first),
        s: sensorId,
        m: metric,
        ts: new Date(minute),
        n: 1,
        sum: value,
        min: value,
        max: value,
      });
      return;
    }
    doc.n++;
    doc.sum += value;
    if (value < doc.min) doc.min = value;
    if (value > doc.max) doc.max = value;
  }
}

class RollupBuilder {
  private readonly byKey = new Map<string, RollupDoc>();
  private readonly slices = new Map<string, SliceRollups>();

  constructor(private readonly firstOffset: ReadonlyMap<string, bigint>) {}

  /** The rollups of the slice a record belongs to. */
  slice(record: PlannedRecord): SliceRollups {
    const key = `${record.topic}:${record.partition}`;
    let slice = this.slices.get(key);
    if (!slice) {
      const first = this.firstOffset.get(key)!;
      slice = new SliceRollups(this.byKey, record.topic, record.partition, first, `${key}:${first}:`);
      this.slices.set(key, slice);
    }
    return slice;
  }

  add(record: PlannedRecord, sensorId: string, metric: string, ts: number, value: number): void {
    this.slice(record).add(sensorId, metric, ts, value);
  }

  docs(): RollupDoc[] {
    return [...this.byKey.values()];
  }
}
