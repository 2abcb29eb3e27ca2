// Writes one batch: id check, announcement, insert (with rollup resets), rollups, dead letters.
import { Inject, Injectable, Logger } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import type { WirePoint } from '@funnel/contracts';
import {
  DeadLettersRepository,
  PointsRepository,
  ReadingsStoredMeanwhile,
  type DeadLetter,
  type SliceDoc,
  type SourcedPoint,
  type StoredCopy,
  TierStore,
} from '@funnel/storage';

import { PartitionFence, writeBudgetMs, type WriteFence } from './partition-fence.js';
import { PipelineMetrics } from './pipeline.metrics.js';
import type { Batch, BufferedRecord, PartitionSlice } from './points-buffer.js';
import { idCheckChunks, planWrite, pointsToCheck, type WritePlan } from './write-plan.js';

/** What the writer needs of the readings collection. */
export interface ReadingsStore {
  /**
   * True when insertMany refuses a second copy of a stored reading key (ReadingsStoredMeanwhile, naming the readings
   * refused) and stores the rest: a regular collection whose `_id` is derived from the key.
   */
  readonly refusesRepeats?: boolean;
  existingIds(points: readonly WirePoint[], lookbackMs: number): Promise<Map<string, StoredCopy>>;
  insertMany(points: readonly SourcedPoint[], timeoutMS: number): Promise<number>;
}

/** What the writer needs of the slice rollups (per flush slice, series and minute; compacted later). */
export interface RollupsStore {
  writeSlices(docs: readonly SliceDoc[], timeoutMS: number): Promise<void>;
  deleteSlicesFrom(topic: string, partition: number, offset: number, timeoutMS: number): Promise<number>;
}

/** What the writer needs of the dead-letters collection. */
export interface DeadLetterStore {
  record(letters: readonly DeadLetter[]): Promise<void>;
}

/** Where a batch's time went (ms), for its debug line. */
export interface WritePhases {
  check: number;
  announce: number;
  /** Deciding what the batch writes (planWrite). */
  plan: number;
  /** From the start of the writes until the readings were inserted. */
  insert: number;
  /** From the same start (the two are written at once) until the rollups were. */
  rollups: number;
}

/** A batch written: the records whose offsets may now be committed, and what was stored. */
export interface BatchWritten {
  /** The batch's records less those of partitions claimed by another worker. */
  records: BufferedRecord[];
  /** Readings inserted. */
  written: WirePoint[];
  /** Copies not inserted: repeats inside the batch and ids already stored. */
  duplicates: number;
  /** Records dropped because another worker claimed their partition. */
  fenced: number;
  phases: WritePhases;
}

/** A batch's write failed; nothing may be committed, and `kept` goes back to the buffer for a retry. */
export class BatchWriteFailed extends Error {
  constructor(
    override readonly cause: Error,
    /** The records still owned (those of fenced partitions are left to their new owner). */
    readonly kept: BufferedRecord[],
    /** Records dropped as fenced before the failure. */
    readonly fenced: number,
  ) {
    super(cause.message);
    this.name = 'BatchWriteFailed';
  }
}

/**
 * Writes a batch so that each reading is stored once and an old owner of a partition never writes after a
 * new one claimed it: look up the ids that may already be stored (only records that may be replays or carry
 * client ids) → announce the offsets per partition (fenced by the claim's epoch) → within the write budget
 * from the announcement: insertMany of the readings not stored yet (and, on a partition's first batch since
 * its claim, delete its rollups from there on), then replace the batch's minute rollups → record dead letters.
 *
 * Where the store refuses a second copy of a key (ReadingsStore.refusesRepeats) and every record to check carries
 * client-chosen ids (`idem`; one checked only as a replay or a retry of api-made ids makes the batch look up
 * first), the look-up comes after the insert, and only when the insert refused some copies: most such ids are new (a
 * line protocol body is checked on its first delivery), and looking them up cost the worker more than the insert
 * (docs/hot-path.md).
 */
@Injectable()
export class BatchWriter {
  private readonly logger = new Logger('Flush');
  /**
   * Per topic-partition, the claim epoch under which its rollups from the restart offset on were deleted.
   * The first batch of an epoch starts at the first record delivered after the assignment (where the
   * replay starts): rollups of slices from there on are uncommitted and recomputed by the replay.
   */
  private readonly rollupsReset = new Map<string, number>();

  constructor(
    @Inject(PointsRepository) private readonly readings: ReadingsStore,
    @Inject(TierStore) private readonly rollups: RollupsStore,
    @Inject(DeadLettersRepository) private readonly deadLetters: DeadLetterStore,
    @Inject(PartitionFence) private readonly fence: WriteFence,
    private readonly config: FunnelConfig,
    private readonly metrics: PipelineMetrics,
  ) {}

  /** Partitions were reassigned: every claim starts anew. */
  forgetClaims(): void {
    this.rollupsReset.clear();
  }

  /** Writes the batch; rejects with BatchWriteFailed when any step fails. */
  async write(batch: Batch): Promise<BatchWritten> {
    const started = Date.now();
    const phases: WritePhases = { check: 0, announce: 0, plan: 0, insert: 0, rollups: 0 };
    let kept = { records: batch.records, slices: batch.partitions, fenced: 0 };
    const insertFirst =
      this.readings.refusesRepeats === true &&
      batch.records.some((r) => r.checkIds) &&
      batch.records.every((r) => !r.checkIds || r.idem);
    try {
      const stored = insertFirst ? new Map<string, StoredCopy>() : await this.storedCopies(batch.records);
      const announcedAt = Date.now();
      phases.check = announcedAt - started;
      kept = await this.dropFenced(batch);
      const planning = Date.now();
      phases.announce = planning - announcedAt;
      const plan = planWrite(kept.records, stored);
      phases.plan = Date.now() - planning;
      const resets = kept.slices.filter((s) => this.rollupsReset.get(`${s.topic}:${s.partition}`) !== s.epoch);
      const deadline = announcedAt + writeBudgetMs(this.config);
      const inserted = insertFirst
        ? await this.insertThenRollUp(kept.records, plan, resets, deadline, phases)
        : (await this.writePlan(plan, resets, deadline, phases), plan.insert);
      await this.deadLetters.record(kept.records.flatMap((r) => (r.deadLetter ? [r.deadLetter] : [])));
      for (const s of resets) this.rollupsReset.set(`${s.topic}:${s.partition}`, s.epoch);
      return {
        records: kept.records,
        written: inserted.map((p) => p.point),
        duplicates: plan.duplicates + plan.insert.length - inserted.length,
        fenced: kept.fenced,
        phases,
      };
    } catch (error) {
      // The retry may cover fewer records (the store's capacity shrank) while this attempt's slices of the
      // others landed: it deletes its partitions' slices from its first offset on again before writing.
      for (const s of kept.slices) this.rollupsReset.delete(`${s.topic}:${s.partition}`);
      throw new BatchWriteFailed(error as Error, kept.records, kept.fenced);
    }
  }

  /** Announces the batch per partition; records of partitions claimed by another owner since are dropped. */
  private async dropFenced(
    batch: Batch,
  ): Promise<{ records: BufferedRecord[]; slices: PartitionSlice[]; fenced: number }> {
    const verdicts = await Promise.all(
      batch.partitions.map(
        async (p) =>
          [`${p.topic}:${p.partition}`, await this.fence.announce(p.topic, p.partition, p.epoch, p.through)] as const,
      ),
    );
    const fenced = new Set(verdicts.filter(([, ok]) => !ok).map(([key]) => key));
    if (fenced.size === 0) {
      return { records: batch.records, slices: batch.partitions, fenced: 0 };
    }
    const records = batch.records.filter((r) => !fenced.has(`${r.topic}:${r.partition}`));
    this.metrics.fencedRecords.inc(batch.records.length - records.length);
    this.logger.warn(
      `partitions ${[...fenced].join(', ')} were claimed by another worker: their records are left to it`,
    );
    return {
      records,
      slices: batch.partitions.filter((p) => !fenced.has(`${p.topic}:${p.partition}`)),
      fenced: batch.records.length - records.length,
    };
  }

  /** What is stored under the ids of records marked for a check (replays, client-chosen ids, retried writes). */
  private async storedCopies(records: readonly BufferedRecord[]): Promise<Map<string, StoredCopy>> {
    const toCheck = pointsToCheck(records);
    if (toCheck.length === 0) {
      return new Map();
    }
    // Client-chosen ids may come back with a later (defaulted) timestamp; ids of timestamped bodies cannot.
    const lookbackMs = records.some((r) => r.idem && !r.exactTs) ? this.config.IDEMPOTENCY_WINDOW_MS : 0;
    // One bounded query at a time (see idCheckChunks), so a huge request cannot stall the server.
    const stored = new Map<string, StoredCopy>();
    for (const chunk of idCheckChunks(toCheck)) {
      this.metrics.idCheckQueryReadings.observe(chunk.length);
      for (const [key, copy] of await this.readings.existingIds(chunk, lookbackMs)) stored.set(key, copy);
    }
    return stored;
  }

  /**
   * The writes of a batch planned without an id check, on a store that refuses a second copy of a key: the insert
   * (while the rollups of `resets` are deleted), then the rollups. When the insert refused copies (keys stored
   * before), every key of the batch is looked up, as a retry's check would, and the rollups are planned again from
   * what is stored: what this insert stored counts in its own record's slice, a copy stored from another record
   * counts there, one stored from a record of this batch (a replay) counts in that one's. The readings inserted.
   */
  private async insertThenRollUp(
    records: readonly BufferedRecord[],
    plan: WritePlan,
    resets: PartitionSlice[],
    deadline: number,
    phases: WritePhases,
  ): Promise<SourcedPoint[]> {
    const started = Date.now();
    const results = await Promise.allSettled([
      this.readings.insertMany(plan.insert, timeLeft(deadline)),
      Promise.all(
        resets.map(async (s) =>
          this.rollups.deleteSlicesFrom(s.topic, s.partition, Number(s.from), timeLeft(deadline)),
        ),
      ),
    ]);
    phases.insert = Date.now() - started;
    const [insert, reset] = results;
    if (reset.status === 'rejected') throw reset.reason;
    let inserted = plan.insert;
    let rollups = plan.rollups;
    if (insert.status === 'rejected') {
      const refused = insert.reason instanceof ReadingsStoredMeanwhile ? insert.reason.refused : undefined;
      if (refused === undefined) throw insert.reason;
      const isRefused = new Set(refused);
      inserted = plan.insert.filter((_, i) => !isRefused.has(i));
      const checking = Date.now();
      const stored = await this.storedCopies(records.map((r) => ({ ...r, checkIds: true })));
      phases.check = Date.now() - checking;
      const replanned = planWrite(records, stored);
      if (replanned.insert.length > 0) {
        // Keys the look-up did not find though the insert refused them (a copy deleted since): inserted now, as a
        // retry would insert them; a refusal again fails the batch, which is then retried.
        await this.readings.insertMany(replanned.insert, timeLeft(deadline));
        inserted = [...inserted, ...replanned.insert];
      }
      rollups = replanned.rollups;
    }
    await this.rollups.writeSlices(rollups, timeLeft(deadline));
    phases.rollups = Date.now() - started;
    return inserted;
  }

  /**
   * The batch's writes, all ending by `deadline` (each operation is given the time left), so that a new
   * owner of a partition, which waits DEDUP_SETTLE_MS after our announcement, never races one of them: the
   * readings are inserted while the batch's rollups are written, the latter once the rollups of the
   * partitions in `resets` from their slice's first offset on are deleted. Both are waited for, even when one
   * fails (a retry must not start while a sibling write is in flight); the offsets are committed only after.
   */
  private async writePlan(
    plan: WritePlan,
    resets: PartitionSlice[],
    deadline: number,
    phases: WritePhases,
  ): Promise<void> {
    const started = Date.now();
    const inserting = this.readings.insertMany(plan.insert, timeLeft(deadline)).finally(() => {
      phases.insert = Date.now() - started;
    });
    const rollingUp = (async () => {
      await Promise.all(
        resets.map(async (s) =>
          this.rollups.deleteSlicesFrom(s.topic, s.partition, Number(s.from), timeLeft(deadline)),
        ),
      );
      await this.rollups.writeSlices(plan.rollups, timeLeft(deadline));
    })().finally(() => {
      phases.rollups = Date.now() - started;
    });
    const results = await Promise.allSettled([inserting, rollingUp]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Ms left before `deadline`; throws (failing the batch, which is retried) when none is. */
function timeLeft(deadline: number): number {
  const left = deadline - Date.now();
  if (left < 1) {
    throw new Error('write budget since the announcement exhausted (bounded by DEDUP_SETTLE_MS)');
  }
  return left;
}
