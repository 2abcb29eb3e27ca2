// The in-memory buffer of consumed records between the consumer and the flush, in arrival order.
import type { WirePoint } from '@funnel/contracts';
import type { DeadLetter } from '@funnel/storage';

/** Readings of one consumed Kafka record, with where they came from. */
export interface BufferedRecord {
  topic: string;
  partition: number;
  /** Kafka offset as kafkajs gives it (a decimal string). */
  offset: string;
  points: WirePoint[];
  /** Fencing epoch of the partition claim this record was consumed under. */
  epoch: number;
  /** The readings may already be stored (client-chosen ids, a replayed range, or a failed write): check ids. */
  checkIds: boolean;
  /**
   * The ids were chosen by the client (its own ids, or an Idempotency-Key): a retry may carry a later
   * timestamp than the stored copy (defaulted to the time received), so they are matched back over
   * IDEMPOTENCY_WINDOW_MS rather than at the exact timestamp.
   */
  idem?: boolean;
  /** With idem: the ids repeat only with the same timestamps, so they are matched at their exact time. */
  exactTs?: boolean;
  /** Epoch ms the api received the readings. */
  receivedAt: number;
  /** Set for a record that could not be used: kept (without readings) so its offset is committed in order. */
  deadLetter?: DeadLetter;
  /** Epoch ms the record entered this worker's buffer (set by `add`; kept when a failed batch is put back). */
  bufferedAt?: number;
}

/** One topic-partition's share of a batch. */
export interface PartitionSlice {
  topic: string;
  partition: number;
  epoch: number;
  /** Lowest offset in the batch: the slice's rollups are keyed by it. */
  from: bigint;
  /** Highest offset in the batch. */
  through: bigint;
}

/** A set of whole records taken out of the buffer to be written together. */
export interface Batch {
  /** Buffer generation the records were taken from; a batch of an older generation is never put back. */
  generation: number;
  records: BufferedRecord[];
  partitions: PartitionSlice[];
}

/**
 * In-memory buffer between the consumer and the flush. Records stay whole (a record's readings are
 * written and committed together) and in arrival order, so committing a batch's highest offset per
 * partition never skips an unwritten record: earlier ones were in earlier, already written batches.
 */
export class PointsBuffer {
  private records: BufferedRecord[] = [];
  private count = 0;
  private gen = 0;
  /** Highest offset taken in per topic-partition since the last assignment, to drop redeliveries. */
  private readonly highest = new Map<string, bigint>();

  /** Readings currently buffered. */
  get size(): number {
    return this.count;
  }

  /** Records currently buffered (including dead letters, which carry no readings). */
  get pendingRecords(): number {
    return this.records.length;
  }

  /**
   * Since when the oldest buffered record has waited to be stored: when the api received it, or when it
   * entered this buffer if that is earlier (a clock of the api's that runs ahead). Undefined when empty.
   * Records stay in arrival order, so the oldest is the first.
   */
  get oldestSince(): number | undefined {
    const first = this.records[0];
    return first && Math.min(first.receivedAt, first.bufferedAt ?? first.receivedAt);
  }

  get generation(): number {
    return this.gen;
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
    record.bufferedAt ??= Date.now();
    this.records.push(record);
    this.count += record.points.length;
    return true;
  }

  /**
   * Takes whole records from the front until at least `maxPoints` readings (or all) are taken, never more
   * than `limit` readings in all (the room left in a bounded store): undefined if not even the first fits.
   */
  take(maxPoints: number, limit = Infinity): Batch | undefined {
    let n = 0;
    let points = 0;
    while (
      n < this.records.length &&
      (points < maxPoints || n === 0) &&
      points + this.records[n].points.length <= limit
    ) {
      points += this.records[n].points.length;
      n++;
    }
    if (n === 0) {
      return undefined;
    }
    const records = this.records.splice(0, n);
    this.count -= points;
    return { generation: this.gen, records, partitions: slicesOf(records) };
  }

  /**
   * Puts records that could not be written back at the front, in their original order, marked so that
   * their ids are checked next time (an unordered insert may have stored some before failing).
   * Records from before the last `clear()` are dropped: Kafka redelivers them to the partition's owner.
   */
  putBack(batch: Batch, records: BufferedRecord[] = batch.records): void {
    if (batch.generation !== this.gen) {
      return;
    }
    this.records = [...records.map((r) => ({ ...r, checkIds: true })), ...this.records];
    this.count += records.reduce((n, r) => n + r.points.length, 0);
  }

  /**
   * Forgets everything after a partition reassignment: Kafka redelivers every uncommitted record from
   * the committed offset, so keeping these would store them twice.
   */
  clear(): void {
    this.records = [];
    this.count = 0;
    this.gen++;
    this.highest.clear();
  }
}

function slicesOf(records: BufferedRecord[]): PartitionSlice[] {
  const slices = new Map<string, PartitionSlice>();
  for (const r of records) {
    const key = `${r.topic}:${r.partition}`;
    const offset = BigInt(r.offset);
    const slice = slices.get(key);
    if (!slice) {
      slices.set(key, { topic: r.topic, partition: r.partition, epoch: r.epoch, from: offset, through: offset });
    } else {
      if (offset > slice.through) slice.through = offset;
      if (offset < slice.from) slice.from = offset;
    }
  }
  return [...slices.values()];
}
