// Slows down token guessing: past a number of failed authentications a minute, an address gets 429s.
/** Addresses tracked at most; past it the oldest window is dropped. */
const MAX_ADDRESSES = 10_000;
const WINDOW_MS = 60_000;

/** Counts failed authentications per client address in fixed one-minute windows. */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  constructor(private readonly perMinute: number) {}

  /** Seconds until `address` may try again, or 0 when it may try now. */
  blockedFor(address: string, now = Date.now()): number {
    const window = this.windows.get(address);
    if (!window || now - window.start >= WINDOW_MS || window.failures < this.perMinute) return 0;
    return Math.max(1, Math.ceil((window.start + WINDOW_MS - now) / 1000));
  }

  fail(address: string, now = Date.now()): void {
    const window = this.windows.get(address);
    if (window && now - window.start < WINDOW_MS) {
      window.failures++;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(address, { start: now, failures: 1 });
  }
}
