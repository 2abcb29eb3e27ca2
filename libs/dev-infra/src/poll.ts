// The one polling helper: repeat a probe until it yields a value, or fail naming what was awaited.
import { sleep } from './sleep.js';

export interface PollOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes (default 200 ms). */
  intervalMs?: number;
  /**
   * Checked before each probe: a string ends the wait at once with that reason (e.g. "the process exited"),
   * so a wait for something that can no longer happen does not sit out its whole timeout.
   */
  abortIf?: () => string | false | undefined;
}

/** Thrown by pollUntil when the time ran out (or abortIf answered); the message says what was awaited. */
export class PollTimeout extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    /** The last probe's error or falsy answer, for the message. */
    readonly last: string | undefined,
    readonly aborted?: string,
  ) {
    super(
      aborted
        ? `gave up waiting for ${what}: ${aborted}${last ? ` (last: ${last})` : ''}`
        : `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last: ${last})` : ''}`,
    );
    this.name = 'PollTimeout';
  }
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Calls `probe` until it returns a truthy value and resolves with that value. A probe that throws counts
 * as "not yet" (a server still starting refuses connections); its message appears in the timeout error.
 * Rejects with PollTimeout after `timeoutMs`; the probe always runs at least once.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 200, abortIf }: PollOptions = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  for (;;) {
    const reason = abortIf?.();
    if (reason) throw new PollTimeout(what, timeoutMs, last, reason);
    try {
      const value = await probe();
      if (value) return value as Truthy<T>;
      last = value === false || value === undefined ? undefined : String(value);
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() >= deadline) throw new PollTimeout(what, timeoutMs, last);
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
}

/** pollUntil as a yes/no answer, for checks that report a failure instead of throwing: false on PollTimeout. */
export async function becomesTrue(
  what: string,
  probe: () => boolean | Promise<boolean>,
  options?: PollOptions,
): Promise<boolean> {
  try {
    return await pollUntil(what, probe, options);
  } catch (error) {
    if (error instanceof PollTimeout) return false;
    throw error;
  }
}
