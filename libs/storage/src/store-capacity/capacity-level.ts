// The arithmetic of a bounded store: how full it is, whether the next write fits, and how that is worded.

/** Share of the capacity at which the worker warns (once) that the store is filling up. */
export const WARN_FRACTION = 0.8;

/** How a bounded store stands: 'unlimited' when no capacity is set (a real MongoDB). */
export type CapacityLevel = 'unlimited' | 'ok' | 'near' | 'full';

/**
 * Where `held` documents stand against `capacity` (0: no limit) when `next` more are about to be written:
 * 'full' when they would not fit, 'near' from WARN_FRACTION of the capacity on.
 */
export function capacityLevel(held: number, capacity: number, next = 1): CapacityLevel {
  if (capacity <= 0) {
    return 'unlimited';
  }
  if (held + Math.max(next, 1) > capacity) {
    return 'full';
  }
  return held >= capacity * WARN_FRACTION ? 'near' : 'ok';
}

/** Documents that still fit: Infinity without a limit, never below 0. */
export function roomLeft(held: number, capacity: number): number {
  return capacity <= 0 ? Infinity : Math.max(0, capacity - held);
}

/** The reason readiness, logs and the api's 503 give when the store is full. */
export function storeFullReason(held: number): string {
  return `local store full: ${held} readings; set MONGODB_URI to a real MongoDB or shorten RETENTION_RAW`;
}
