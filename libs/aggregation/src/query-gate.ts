/**
 * Bounds what aggregate queries may take of an api process: how many run at once, how many wait for a slot and
 * for how long (first in, first out, as ClickHouse's and Trino's admission queues), and how long each runs.
 */
import type { ServerResponse } from 'node:http';

import { Injectable, Optional } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';

import { QueryMetrics, type QueueOutcome } from './query-metrics.js';
import { QueryTimedOut, QueryUnavailable } from './query-rejected.js';

/** Seconds a client is asked to wait before retrying a query refused for load. */
export const QUERY_RETRY_AFTER_SECONDS = 1;

/** Why the gate answers 503, for the OpenAPI description of every route that runs through it. */
export const GATE_UNAVAILABLE =
  'MAX_CONCURRENT_QUERIES queries run and MAX_QUEUED_QUERIES wait already (refused at once; with QUERY_QUEUE_WAIT_MS 0 ' +
  'as soon as every slot is taken), the query waited QUERY_QUEUE_WAIT_MS for a slot without getting one, or it ran ' +
  'past QUERY_TIMEOUT_MS (counted from its slot, not its wait)';

/** Settings the gate reads (FunnelConfig in the app; a plain object in its unit tests). */
export type QueryGateConfig = Pick<
  FunnelConfig,
  'MAX_CONCURRENT_QUERIES' | 'MAX_QUEUED_QUERIES' | 'QUERY_QUEUE_WAIT_MS' | 'QUERY_TIMEOUT_MS'
>;

/** One query waiting for a slot. */
interface Waiter {
  since: number;
  /** Gives it the slot a finished query freed (the count of running queries is already raised). */
  admit(): void;
}

@Injectable()
export class QueryGate {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly config: FunnelConfig,
    @Optional() private readonly metrics?: QueryMetrics,
  ) {}

  /**
   * Runs `query` in one of MAX_CONCURRENT_QUERIES slots. With every slot taken it waits, behind the queries that
   * came first, for up to QUERY_QUEUE_WAIT_MS; it is refused at once (QueryUnavailable) when MAX_QUEUED_QUERIES
   * already wait (or the queue is off), and after its wait otherwise. QUERY_TIMEOUT_MS counts from the slot: a
   * query still running after it is answered QueryTimedOut (its reads stop on their own deadline). `signal`
   * (the client went away) takes a waiting query out of the queue.
   */
  async run<T>(query: (deadline: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.slot(signal);
    const limit = this.config.QUERY_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timedOut(limit)), limit);
    });
    const work = (async () => query(Date.now() + limit))();
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof QueryTimedOut) this.metrics?.refused.inc({ reason: 'timeout' });
      throw error;
    } finally {
      clearTimeout(timer);
      // The slot is held until the work itself ends, so a timed-out query still counts against the limit.
      void work.catch(() => undefined).finally(() => this.release());
    }
  }

  /** Takes a slot now, or after waiting in the queue; throws QueryUnavailable when refused. */
  private slot(signal?: AbortSignal): Promise<void> {
    const { MAX_CONCURRENT_QUERIES: slots, MAX_QUEUED_QUERIES: queueLength, QUERY_QUEUE_WAIT_MS: waitMs } = this.config;
    if (this.running < slots && this.queue.length === 0) {
      this.running++;
      this.report();
      this.metrics?.queueWait.observe({ outcome: 'admitted' }, 0);
      return Promise.resolve();
    }
    if (waitMs === 0 || this.queue.length >= Math.max(0, queueLength)) {
      this.metrics?.refused.inc({ reason: 'queue_full' });
      const queue =
        waitMs === 0 || queueLength === 0
          ? 'and there is no queue (QUERY_QUEUE_WAIT_MS or MAX_QUEUED_QUERIES is 0)'
          : `and MAX_QUEUED_QUERIES (${queueLength}) wait already`;
      return Promise.reject(
        new QueryUnavailable(
          `${this.running} queries are running, MAX_CONCURRENT_QUERIES (${slots}), ${queue}; retry shortly`,
          QUERY_RETRY_AFTER_SECONDS,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(clientGone());
    return new Promise<void>((resolve, reject) => {
      const leave = (outcome: QueueOutcome): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        this.metrics?.queueWait.observe({ outcome }, (Date.now() - waiter.since) / 1000);
        this.report();
      };
      const waiter: Waiter = {
        since: Date.now(),
        admit: () => {
          leave('admitted');
          resolve();
        },
      };
      const onAbort = (): void => {
        leave('client_gone');
        reject(clientGone());
      };
      const timer = setTimeout(() => {
        leave('wait_exceeded');
        this.metrics?.refused.inc({ reason: 'wait_exceeded' });
        reject(
          new QueryUnavailable(
            `the query waited QUERY_QUEUE_WAIT_MS (${waitMs} ms) for one of MAX_CONCURRENT_QUERIES (${slots}) ` +
              'slots without getting one; retry shortly',
            QUERY_RETRY_AFTER_SECONDS,
          ),
        );
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.report();
    });
  }

  /** Frees a slot: the first waiting query takes it. */
  private release(): void {
    this.running--;
    while (this.running < this.config.MAX_CONCURRENT_QUERIES && this.queue.length > 0) {
      this.running++;
      this.queue[0]!.admit();
    }
    this.report();
  }

  private report(): void {
    this.metrics?.running.set(this.running);
    this.metrics?.queued.set(this.queue.length);
  }
}

/** The answer of a query that ran past QUERY_TIMEOUT_MS. */
export function timedOut(limitMs: number): QueryUnavailable {
  return new QueryTimedOut(limitMs, QUERY_RETRY_AFTER_SECONDS);
}

/** The answer to a client that went away while its query waited for `what` (nobody reads it). */
export function clientGone(what = 'a slot'): QueryUnavailable {
  return new QueryUnavailable(`the client went away while the query waited for ${what}`, QUERY_RETRY_AFTER_SECONDS);
}

/** Aborts when the response's connection closes before the answer was sent: the client went away. */
export function clientGoneSignal(response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
