// When a flush is due and how long a failed one waits: pure arithmetic over settings and the last write.
import type { FunnelConfig } from '@funnel/config';

/** Longest wait before retrying a failed write, however many failed in a row. */
export const MAX_BACKOFF_MS = 30_000;
/** How often the scheduler checks whether a flush is due (at most; FLUSH_INTERVAL_MS when that is shorter). */
export const TICK_MS = 100;

/** How long the last successful write took and how many readings its batch held. */
export interface LastWrite {
  ms: number;
  points: number;
}

/**
 * When the buffer's next flush is due (epoch ms): FLUSH_INTERVAL_MS after its oldest record was received, less
 * the time the write is expected to take, so that the readings are stored by then rather than only starting
 * to be written. The expected time is the last write's, scaled up (never down) to the readings that the
 * next batch will hold; with no write yet, nothing is subtracted. A write expected to take the whole interval
 * or more makes the flush due at once (the worker then writes back to back, as under a backlog).
 */
export function flushDueAt(
  oldestSince: number,
  bufferedPoints: number,
  config: Pick<FunnelConfig, 'FLUSH_INTERVAL_MS' | 'FLUSH_MAX_POINTS'>,
  lastWrite?: LastWrite,
): number {
  const next = Math.min(bufferedPoints, config.FLUSH_MAX_POINTS);
  const expected = lastWrite && lastWrite.points > 0 ? lastWrite.ms * Math.max(1, next / lastWrite.points) : 0;
  return oldestSince + config.FLUSH_INTERVAL_MS - Math.min(config.FLUSH_INTERVAL_MS, expected);
}

/** The wait after `failures` consecutive failed writes: FLUSH_INTERVAL_MS, doubled each time, capped. */
export function retryDelay(failures: number, config: Pick<FunnelConfig, 'FLUSH_INTERVAL_MS'>): number {
  return Math.min(MAX_BACKOFF_MS, config.FLUSH_INTERVAL_MS * 2 ** (failures - 1));
}
