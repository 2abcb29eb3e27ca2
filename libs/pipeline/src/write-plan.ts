// Decides what a batch writes: which ids to look up, which readings to insert, and the minute rollups they make.
import { readingKey, type WirePoint } from '@funnel/contracts';
import {
  addReading,
  emptyStats,
  HOUR_MS,
  MINUTE_MS,
  seriesFields,
  seriesIdentity,
  storedSliceMinute,
  type SeriesFields,
  type SliceDoc,
  type SourcedPoint,
  type Stats,
  type StoredCopy,
  type StoredSliceMinute,
} from '@funnel/storage';

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
  /** Rollups of the readings that count, per slice, series (sensorId, metric, tags) and hour, minute by minute. */
  rollups: SliceDoc[];
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

/** Most readings one id-check query looks up whatever the time they span. */
export const ID_CHECK_CHUNK = 500;
/** Most readings one id-check query looks up when they lie within ID_CHECK_NARROW_MS of each other. */
export const ID_CHECK_NARROW_CHUNK = 1000;
/** The span up to which a query may take more than ID_CHECK_CHUNK readings. */
export const ID_CHECK_NARROW_MS = 60_000;

/**
 * The readings to check, cut into queries in time order, each bounded in its `$in` lists and in the time range it
 * reads: up to `narrowSize` readings lying within `narrowMs` of the chunk's first, else up to `size` whatever they
 * span. So one request of 10,000 sensors at ts=0 next to readings of today never makes a query that reads the whole
 * collection with a 10,000-entry `$in`, while a batch of timestamped line protocol (a few instants, many series)
 * takes one query per 1,000 readings rather than per 500. The sizes were measured when the stand-in answered each
 * query by a scan (line protocol stored/s at 500, 1,000 and 5,000: 9,785, 10,827 and 3,903; docs/hot-path.md); it
 * now reads a chunk by `_id` in lists of 100 (PointsRepository.existingIds), where the time range plays no part.
 */
export function idCheckChunks(
  points: readonly WirePoint[],
  size = ID_CHECK_CHUNK,
  narrowSize = ID_CHECK_NARROW_CHUNK,
  narrowMs = ID_CHECK_NARROW_MS,
): WirePoint[][] {
  const byTime = [...points].sort((a, b) => a.ts - b.ts);
  const chunks: WirePoint[][] = [];
  let chunk: WirePoint[] = [];
  for (const point of byTime) {
    const full = chunk.length >= narrowSize || (chunk.length >= size && point.ts - chunk[0]!.ts > narrowMs);
    if (full) {
      chunks.push(chunk);
      chunk = [];
    }
    chunk.push(point);
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
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
  const rollups = new RollupBuilder(records);
  for (const [key, entry] of byId) {
    const copy = stored.get(key);
    if (!copy) {
      const src = sourceOf(entry.firstRecord.partition, entry.firstRecord.offset);
      insert.push({ point: entry.first, src });
      const p = entry.first;
      rollups.add(entry.firstRecord, p.sensorId, p.metric, p.tags, p.ts, p.value);
      continue;
    }
    const own = copy.src === undefined ? undefined : entry.srcs.get(copy.src);
    if (own) {
      rollups.add(own, copy.sensorId, copy.metric, copy.tags, copy.ts, copy.value);
    }
  }
  return { insert, rollups: rollups.docs(), duplicates: copies - insert.length };
}

/**
 * planWrite when nothing is stored yet (fresh traffic, the common case): the first copy of each id is
 * inserted and counted in its own record's slice, as planWrite would, without its per-id record maps.
 */
function planFresh(records: readonly PlannedRecord[]): WritePlan {
  const rollups = new RollupBuilder(records);
  const firstCopy = new FirstCopies();
  const insert: SourcedPoint[] = [];
  let copies = 0;
  for (const record of records) {
    const src = sourceOf(record.partition, record.offset);
    const slice = rollups.slice(record);
    for (const point of record.points) {
      copies++;
      if (!firstCopy.isFirst(point)) continue;
      insert.push({ point, src });
      slice.add(point.sensorId, point.metric, point.tags, point.ts, point.value);
    }
  }
  return { insert, rollups: rollups.docs(), duplicates: copies - insert.length };
}

/**
 * Tells the first copy of each reading key (id, sensorId, metric) from its repeats, keyed by the id alone: an id
 * is almost always of one series, so a reading needs no key string of its own.
 */
class FirstCopies {
  /** Per id, the series (sensorId and metric) of its first copy. */
  private readonly byId = new Map<string, { sensorId: string; metric: string }>();
  /** Reading keys of copies whose id was first seen on another series. */
  private others: Set<string> | undefined;

  isFirst(point: WirePoint): boolean {
    const seen = this.byId.get(point.id);
    if (seen === undefined) {
      this.byId.set(point.id, point);
      return true;
    }
    if (seen.sensorId === point.sensorId && seen.metric === point.metric) return false;
    this.others ??= new Set();
    const key = readingKey(point);
    if (this.others.has(key)) return false;
    this.others.add(key);
    return true;
  }
}

/** Lowest and highest offset per topic-partition of the batch: a partition's slice spans them. */
function offsetSpans(records: readonly PlannedRecord[]): Map<string, { first: bigint; last: bigint }> {
  const spans = new Map<string, { first: bigint; last: bigint }>();
  for (const record of records) {
    const key = `${record.topic}:${record.partition}`;
    const offset = BigInt(record.offset);
    const span = spans.get(key);
    if (!span) spans.set(key, { first: offset, last: offset });
    else if (offset < span.first) span.first = offset;
    else if (offset > span.last) span.last = offset;
  }
  return spans;
}

/**
 * One minute of a series in a slice being built: its first reading, and its statistics once a second reading
 * falls in it. A sensor reporting once a minute or slower (every backfill of such data) makes one minute per
 * reading, stored as that reading's time and value: no statistics or sketch are made for it.
 */
interface MinuteAcc {
  minute: number;
  /** The first reading of the minute. */
  ts: number;
  v: number;
  /** Statistics of every reading of the minute, from its second on. */
  stats: Stats | undefined;
}

function addToMinute(acc: MinuteAcc, ts: number, value: number): void {
  if (acc.stats === undefined) {
    acc.stats = emptyStats();
    addReading(acc.stats, acc.ts, acc.v);
  }
  addReading(acc.stats, ts, value);
}

/** The stored form of a minute being built (storedSliceMinute of its statistics). */
function storedMinute(acc: MinuteAcc): StoredSliceMinute {
  if (acc.stats === undefined) return { ts: new Date(acc.minute), t: new Date(acc.ts), v: acc.v };
  return storedSliceMinute(acc.minute, acc.stats);
}

/** The minutes of one series in one slice, in the order they first got a reading. */
class SeriesMinutes {
  readonly minutes: MinuteAcc[] = [];
  /** The minute of the series' last reading: most readings follow one of their series. */
  private last: MinuteAcc | undefined;
  /** The latest minute so far: a reading after it opens a new minute without a lookup. */
  private latest = -Infinity;
  /** Whether `minutes` are in time order (no reading went back in time to open a minute). */
  private ordered = true;
  /** Minutes by start, made only once a reading goes back in time (a series' readings mostly come in order). */
  private byStart: Map<number, MinuteAcc> | undefined;

  constructor(readonly series: SeriesFields) {}

  add(ts: number, value: number): void {
    // ts is non-negative epoch ms (the record decoder refuses anything else).
    const minute = ts - (ts % MINUTE_MS);
    const last = this.last;
    if (last !== undefined && last.minute === minute) {
      addToMinute(last, ts, value);
      return;
    }
    let acc: MinuteAcc | undefined;
    if (minute > this.latest) {
      this.latest = minute;
    } else {
      this.byStart ??= new Map(this.minutes.map((m) => [m.minute, m]));
      acc = this.byStart.get(minute);
    }
    if (acc === undefined) {
      if (minute < this.latest) this.ordered = false;
      acc = { minute, ts, v: value, stats: undefined };
      this.minutes.push(acc);
      this.byStart?.set(minute, acc);
    } else {
      addToMinute(acc, ts, value);
    }
    this.last = acc;
  }

  /** The minutes earliest first. */
  inOrder(): MinuteAcc[] {
    if (!this.ordered) this.minutes.sort((a, b) => a.minute - b.minute);
    return this.minutes;
  }
}

/** Rollups of one slice (one topic-partition of the batch); keys share the slice's prefix. */
class SliceRollups {
  private readonly bySeries = new Map<SeriesFields, SeriesMinutes>();
  /** The series of the last reading added, and its minutes: most readings follow the one before. */
  private lastSeries: SeriesFields | undefined;
  private lastMinutes: SeriesMinutes | undefined;

  constructor(
    private readonly builder: RollupBuilder,
    private readonly topic: string,
    private readonly partition: number,
    private readonly span: { first: bigint; last: bigint },
    private readonly prefix: string,
  ) {}

  add(sensorId: string, metric: string, tags: Record<string, string> | undefined, ts: number, value: number): void {
    const series = this.builder.series(sensorId, metric, tags);
    let minutes = series === this.lastSeries ? this.lastMinutes : this.bySeries.get(series);
    if (minutes === undefined) {
      minutes = new SeriesMinutes(series);
      this.bySeries.set(series, minutes);
    }
    this.lastSeries = series;
    this.lastMinutes = minutes;
    minutes.add(ts, value);
  }

  /** This slice's documents: one per series and hour, its minutes earliest first. */
  docsInto(out: SliceDoc[]): void {
    const o = Number(this.span.first);
    const oe = Number(this.span.last);
    for (const seriesMinutes of this.bySeries.values()) {
      const series = seriesMinutes.series;
      let doc: SliceDoc | undefined;
      let hour = -1;
      for (const acc of seriesMinutes.inOrder()) {
        const start = acc.minute - (acc.minute % HOUR_MS);
        if (doc === undefined || start !== hour) {
          hour = start;
          doc = {
            _id: `${this.prefix}${series.k}:${start}`,
            t: this.topic,
            p: this.partition,
            o,
            oe,
            ...series,
            ts: new Date(start),
            mins: [],
          };
          out.push(doc);
        }
        doc.mins.push(storedMinute(acc));
      }
    }
  }
}

class RollupBuilder {
  private readonly slices = new Map<string, SliceRollups>();
  private readonly seriesCache = new Map<string, SeriesFields>();
  /** Series without tags by sensorId, then metric: found without building their identity string. */
  private readonly untagged = new Map<string, Map<string, SeriesFields>>();
  private readonly spans: Map<string, { first: bigint; last: bigint }>;

  constructor(records: readonly PlannedRecord[]) {
    this.spans = offsetSpans(records);
  }

  /** The last series looked up, by its sensorId, metric and tags object: most readings follow the one before. */
  private last: { sensorId: string; metric: string; tags: Record<string, string> | undefined; fields: SeriesFields } = {
    sensorId: '',
    metric: '',
    tags: undefined,
    fields: undefined as unknown as SeriesFields,
  };

  /** The series fields of (sensorId, metric, tags), hashed once per series and batch. */
  series(sensorId: string, metric: string, tags: Record<string, string> | undefined): SeriesFields {
    const last = this.last;
    if (last.fields !== undefined && sensorId === last.sensorId && metric === last.metric && tags === last.tags) {
      return last.fields;
    }
    const fields = this.lookUp(sensorId, metric, tags);
    this.last = { sensorId, metric, tags, fields };
    return fields;
  }

  private lookUp(sensorId: string, metric: string, tags: Record<string, string> | undefined): SeriesFields {
    if (tags === undefined) {
      let byMetric = this.untagged.get(sensorId);
      if (byMetric === undefined) {
        byMetric = new Map();
        this.untagged.set(sensorId, byMetric);
      }
      let fields = byMetric.get(metric);
      if (fields === undefined) {
        fields = this.byIdentity(sensorId, metric, undefined);
        byMetric.set(metric, fields);
      }
      return fields;
    }
    return this.byIdentity(sensorId, metric, tags);
  }

  private byIdentity(sensorId: string, metric: string, tags: Record<string, string> | undefined): SeriesFields {
    const identity = seriesIdentity(sensorId, metric, tags);
    let fields = this.seriesCache.get(identity);
    if (!fields) {
      fields = seriesFields(sensorId, metric, tags);
      this.seriesCache.set(identity, fields);
    }
    return fields;
  }

  /** The rollups of the slice a record belongs to. */
  slice(record: PlannedRecord): SliceRollups {
    const key = `${record.topic}:${record.partition}`;
    let slice = this.slices.get(key);
    if (!slice) {
      const span = this.spans.get(key)!;
      slice = new SliceRollups(this, record.topic, record.partition, span, `${key}:${span.first}:`);
      this.slices.set(key, slice);
    }
    return slice;
  }

  add(
    record: PlannedRecord,
    sensorId: string,
    metric: string,
    tags: Record<string, string> | undefined,
    ts: number,
    value: number,
  ): void {
    this.slice(record).add(sensorId, metric, tags, ts, value);
  }

  /** The slice documents: one per slice, series and hour, holding its minutes earliest first. */
  docs(): SliceDoc[] {
    const docs: SliceDoc[] = [];
    for (const slice of this.slices.values()) slice.docsInto(docs);
    return docs;
  }
}
