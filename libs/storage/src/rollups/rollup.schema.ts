// The shape of a stored minute rollup and the name of its collection.
import type { FunnelConfig } from '@funnel/config';

/** Width of a rollup: one minute. */
export const MINUTE_MS = 60_000;

/** Pre-aggregated readings of one flush slice (one topic-partition in one batch), one series, one minute. */
export interface RollupDoc {
  /** `<topic>:<partition>:<first offset of the slice>:<sensorId>:<metric>:<minute start ms>` */
  _id: string;
  t: string;
  p: number;
  /** First (lowest) offset of the slice: the claim of a partition deletes rollups from its restart offset on. */
  o: number;
  s: string;
  m: string;
  /** Minute start. */
  ts: Date;
  n: number;
  sum: number;
  min: number;
  max: number;
}

/** The regular collection beside the readings that holds their minute rollups. */
export function rollupsCollection(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): string {
  return `${config.MONGODB_COLLECTION}_rollups`;
}
