import type { WirePoint } from '@funnel/contracts';

/** Readings of one consumed Kafka record, with where they came from. */
export interface BufferedRecord {
  topic: string;
  partition: number;
  /** Kafka offset as kafkajs gives it (a decimal string). */
  offset: string;
  points: WirePoint[];
}

/** A set of whole records taken out of the buffer to be written together. */
export interface Batch {
  records: BufferedRecord[];
  points: WirePoint[];
  /** Per topic-partition, the offset to commit once `points` are written: highest offset + 1. */
  commits: { topic: string; partition: number; offset: string }[];
}

/**
 * In-memory buffer between the consumer and the flush. Records stay whole (a record's readings are
 * written and committed together) and in arrival order, so committing a batch's highest offset per
 * partition never skips an unwritten record: earlier ones were in earlier, already written batches.
 */
export class PointsBuffer {
  private records: BufferedRecord[] = [];
  private count = 0;
  /** Highest offset taken in per topic-partition since start, to drop redeliveries after a rebalance. */
  private readonly highest = new Map<string, bigint>();

  /** Readings currently buffered. */
  get size(): number {
    return this.count;
  }

  /** Records currently buffered (a rejected record is kept with no readings so its offset is committed). */
  get pendingRecords(): number {
    return this.records.length;
  }

  /** Adds a record; returns false (and keeps nothing) if this offset was already taken in. */
  add(record: BufferedRecord): boolean {
    const key = `${record.topic}:${record.partition}`;
    const offset = BigInt(record.offset);
    const seen = this.highest.get(key);
    if (seen !== undefined && offset <= seen) {
      return false;
    }
    this.highest.set(key, offset);
    this.records.push(record);
    this.count += record.points.length;
    return true;
  }

  /** Takes whole records from the front until at least `maxPoints` readings (or all) are taken. */
  take(maxPoints: number): Batch | undefined {
    if (this.records.length === 0) {
      return undefined;
    }
    let n = 0;
    let points = 0;
    while (n < this.records.length && (points < maxPoints || n === 0)) {
      points += this.records[n].points.length;
      n++;
    }
    const records = this.records.splice(0, n);
    this.count -= points;
    return { records, points: records.flatMap((r) => r.points), commits: commitsOf(records) };
  }

  /** Puts a batch that could not be written back at the front, in its original order. */
  putBack(batch: Batch): void {
    this.records = [...batch.records, ...this.records];
    this.count += batch.points.length;
  }
}

function commitsOf(records: BufferedRecord[]): Batch['commits'] {
  const top = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    const offset = BigInt(r.offset);
    const current = top.get(key);
    if (!current || offset > current.offset) {
      top.set(key, { topic: r.topic, partition: r.partition, offset });
    }
  }
  return [...top.values()].map((t) => ({ topic: t.topic, partition: t.partition, offset: (t.offset + 1n).toString() }));
}
