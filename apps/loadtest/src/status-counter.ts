// Counts load-test answers by HTTP status, timeout and error.
import type { StatusCounts } from './report.js';

/**
 * Answers counted by HTTP status, plus "timeout" and "error" for requests that got none. Called once per
 * answer, so counting is a Map update keyed by the status as it comes (no String(), no object keys); the
 * report's object is built when asked for.
 */
export class StatusCounter {
  private readonly byStatus = new Map<number | 'timeout' | 'error', number>();
  private sum = 0;

  add(status: number | 'timeout' | 'error'): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.sum++;
  }

  /** How many answers had this status. */
  count(status: number | 'timeout' | 'error'): number {
    return this.byStatus.get(status) ?? 0;
  }

  /** As the report has them: status codes in ascending order, then "timeout" and "error" as they first came. */
  get counts(): StatusCounts {
    const counts: StatusCounts = {};
    for (const [status, n] of this.byStatus) counts[String(status)] = n;
    return counts;
  }

  get total(): number {
    return this.sum;
  }

  /** Everything but 2xx answers. */
  get errors(): number {
    let errors = 0;
    for (const [status, n] of this.byStatus) {
      if (typeof status !== 'number' || status < 200 || status > 299) errors += n;
    }
    return errors;
  }
}
