import type { StatusCounts } from './report.js';

/** Answers counted by HTTP status, plus "timeout" and "error" for requests that got none. */
export class StatusCounter {
  readonly counts: StatusCounts = {};

  add(status: number | 'timeout' | 'error'): void {
    const key = String(status);
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }

  get total(): number {
    return Object.values(this.counts).reduce((s, n) => s + n, 0);
  }

  /** Everything but 2xx answers. */
  get errors(): number {
    return Object.entries(this.counts)
      .filter(([k]) => !/^2\d\d$/.test(k))
      .reduce((s, [, n]) => s + n, 0);
  }
}
