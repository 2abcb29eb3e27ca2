/** Bounds what aggregate queries may take of an api process: how many run at once, and for how long. */
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';

import { QueryUnavailable } from './query-rejected.js';

/** Seconds a client is asked to wait before retrying a query refused for load. */
export const QUERY_RETRY_AFTER_SECONDS = 1;

@Injectable()
export class QueryGate {
  private running = 0;

  constructor(private readonly config: FunnelConfig) {}

  /**
   * Runs `query` if fewer than MAX_CONCURRENT_QUERIES run, else refuses at once (QueryUnavailable); a query
   * still running after QUERY_TIMEOUT_MS is answered QueryUnavailable too (its reads stop on their own deadline).
   */
  async run<T>(query: (deadline: number) => Promise<T>): Promise<T> {
    if (this.running >= this.config.MAX_CONCURRENT_QUERIES) {
      throw new QueryUnavailable(
        `${this.running} queries are running, MAX_CONCURRENT_QUERIES (${this.config.MAX_CONCURRENT_QUERIES}); retry shortly`,
        QUERY_RETRY_AFTER_SECONDS,
      );
    }
    this.running++;
    const limit = this.config.QUERY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(limit)), limit);
    });
    const work = query(Date.now() + limit);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      // The slot is held until the work itself ends, so a timed-out query still counts against the limit.
      void work.catch(() => undefined).finally(() => this.running--);
    }
  }
}

/** The answer of a query that ran past QUERY_TIMEOUT_MS. */
export function timedOut(limitMs: number): QueryUnavailable {
  return new QueryUnavailable(
    `the query took longer than QUERY_TIMEOUT_MS (${limitMs} ms): narrow the range, widen the window or select fewer series, then retry`,
    QUERY_RETRY_AFTER_SECONDS,
  );
}
