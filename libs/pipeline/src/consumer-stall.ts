// The stall decision: work waiting and no progress for CONSUMER_STALL_MS.
/** What the stall decision looks at. */
export interface StallInput {
  /** Records of this worker's partitions not committed yet; undefined when it could not be measured. */
  lag: number | undefined;
  /** Epoch ms of the last record taken in, batch committed, or assignment. */
  lastProgressAt: number;
  now: number;
  /** CONSUMER_STALL_MS. */
  stallMs: number;
}

/**
 * A consumer is stalled when work is waiting (lag above zero) and it has made no progress for
 * `stallMs`. Unknown lag is not a stall: a broker that cannot be asked is the other probes' business.
 */
export function isStalled({ lag, lastProgressAt, now, stallMs }: StallInput): boolean {
  return lag !== undefined && lag > 0 && now - lastProgressAt >= stallMs;
}
