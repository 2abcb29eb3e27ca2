// The shape of a partition's progress document and the name of its collection.
import type { FunnelConfig } from '@funnel/config';

/** What a new owner of a partition learns when it claims it. */
export interface PartitionClaim {
  /** Fencing token: writes for this partition carry it; a later claim makes older owners' writes fail. */
  epoch: number;
  /** Highest offset any earlier owner may have written (announced before writing), if any. */
  intentThrough?: number;
  /** When that announcement was made (epoch ms), to wait out a write still in flight elsewhere. */
  intentAt?: number;
  intentOwner?: string;
}

/** One topic-partition's document, keyed `<topic>:<partition>`. */
export interface ProgressDoc {
  _id: string;
  epoch: number;
  owner: string;
  intentThrough?: number;
  intentAt?: number;
  intentOwner?: string;
}

/** The small regular collection beside the readings that holds one progress document per topic-partition. */
export function progressCollection(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): string {
  return `${config.MONGODB_COLLECTION}_partition_progress`;
}
