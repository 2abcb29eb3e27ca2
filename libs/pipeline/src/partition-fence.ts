// Claims partitions and announces writes under the claim's epoch, so a replay is stored once and an old owner is fenced.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { Injectable, Logger } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { PartitionProgressRepository } from '@funnel/storage';

/** What the worker knows about a partition it owns. */
export interface OwnedPartition {
  epoch: number;
  /** Records at or below this offset may already be stored by an earlier owner: check their ids. */
  checkThrough?: bigint;
  /** Wait until this time before writing replayed records: an earlier owner's write may still be landing. */
  settleUntil: number;
}

/** Announces a batch's writes under a partition's claim (what the batch writer needs of the fence). */
export interface WriteFence {
  announce(topic: string, partition: number, epoch: number, through: bigint): Promise<boolean>;
}

/**
 * Longest a batch's writes may take after its announcement: well inside DEDUP_SETTLE_MS, so that a new owner
 * of the partition, which waits that long after our announcement before checking replayed ids, never races one.
 */
export function writeBudgetMs(config: Pick<FunnelConfig, 'DEDUP_SETTLE_MS'>): number {
  return Math.max(1000, Math.floor(config.DEDUP_SETTLE_MS * 0.8));
}

/**
 * Claims partitions in MongoDB when the worker gets them (see PartitionProgressRepository), so that a
 * replay after a crash or rebalance is checked against what is stored, and an old owner cannot write
 * once a new one has claimed.
 */
@Injectable()
export class PartitionFence implements WriteFence {
  private readonly logger = new Logger('Fence');
  /** Identifies this process in the progress collection. */
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private claims = new Map<string, Promise<OwnedPartition>>();

  constructor(
    private readonly progress: PartitionProgressRepository,
    private readonly config: FunnelConfig,
  ) {}

  /** The claim of this partition since the last assignment, made on first use. Rejects if MongoDB fails. */
  claim(topic: string, partition: number): Promise<OwnedPartition> {
    const key = `${topic}:${partition}`;
    let claim = this.claims.get(key);
    if (!claim) {
      claim = this.progress.claim(topic, partition, this.owner).then((c) => {
        const settle =
          c.intentAt !== undefined && c.intentOwner !== this.owner ? c.intentAt + this.config.DEDUP_SETTLE_MS : 0;
        if (c.intentThrough !== undefined) {
          this.logger.log(
            `claimed ${key} (epoch ${c.epoch}); offsets up to ${c.intentThrough} are checked for replays`,
          );
        }
        return {
          epoch: c.epoch,
          checkThrough: c.intentThrough === undefined ? undefined : BigInt(c.intentThrough),
          settleUntil: settle,
        };
      });
      claim.catch(() => this.claims.delete(key));
      this.claims.set(key, claim);
    }
    return claim;
  }

  /** After a rebalance every partition is claimed again (new epoch, fresh replay range). */
  reset(): void {
    this.claims = new Map();
  }

  /** Announces a batch's highest offset before writing it; false when another owner has claimed since. */
  announce(topic: string, partition: number, epoch: number, through: bigint): Promise<boolean> {
    return this.progress.announce(topic, partition, epoch, Number(through), this.owner);
  }
}
