/**
 * Lets identical aggregate queries in flight share one execution, as Go's singleflight and the query frontends of
 * Cortex and Thanos do: a query whose key equals that of a run still going joins it and gets its answer (or its
 * error) instead of a slot of its own. Nothing is cached: the entry goes as soon as the run settles, so a query
 * that arrives after it runs anew.
 */
import { Injectable, Optional } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';

import { clientGone } from './query-gate.js';
import { QueryMetrics } from './query-metrics.js';

/** Settings the coalescer reads (FunnelConfig in the app; a plain object in its unit tests). */
export type QueryCoalescerConfig = Pick<FunnelConfig, 'QUERY_COALESCE'>;

/** One run in flight and who still waits for it. */
interface SharedRun<T> {
  answer: Promise<T>;
  /** Aborts the signal the run was given: once every caller that joined it has gone. */
  controller: AbortController;
  /** Callers still waiting for the answer (one without a signal never leaves). */
  waiting: number;
}

/** A canonical string of a plain value: object keys sorted, undefined fields left out, arrays in their order. */
export function canonicalKey(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  // A Set, Map or class instance would stringify as `{}` and make two different queries one key.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new TypeError('a query key holds plain values only');
  const fields = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return Object.fromEntries(fields.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, canonical(v)]));
}

@Injectable()
export class QueryCoalescer {
  private readonly runs = new Map<string, SharedRun<unknown>>();

  constructor(
    private readonly config: FunnelConfig,
    @Optional() private readonly metrics?: QueryMetrics,
  ) {}

  /**
   * The answer of `work` for `key`: of a run started now, or of the identical run in flight, joined (with
   * QUERY_COALESCE false, always a run of its own). `work`'s signal aborts only when every joined caller's `signal`
   * has; a caller whose signal aborts while others wait is rejected alone, with the gate's client-gone error.
   */
  run<T>(key: string, work: (signal?: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (!this.config.QUERY_COALESCE) return work(signal);
    if (signal?.aborted) return Promise.reject(clientGone('its answer'));
    const running = this.runs.get(key) as SharedRun<T> | undefined;
    if (running) this.metrics?.coalesced.inc();
    return this.join(key, running ?? this.start(key, work), signal);
  }

  private start<T>(key: string, work: (signal: AbortSignal) => Promise<T>): SharedRun<T> {
    const controller = new AbortController();
    const shared: SharedRun<T> = { answer: (async () => work(controller.signal))(), controller, waiting: 0 };
    this.runs.set(key, shared);
    const settled = (): void => this.forget(key, shared);
    shared.answer.then(settled, settled);
    return shared;
  }

  private join<T>(key: string, shared: SharedRun<T>, signal?: AbortSignal): Promise<T> {
    shared.waiting++;
    if (!signal) return shared.answer;
    return new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        reject(clientGone('its answer'));
        if (--shared.waiting > 0) return;
        // Nobody waits for this run any more: a query arriving now starts its own rather than join an aborted one.
        this.forget(key, shared);
        shared.controller.abort();
      };
      signal.addEventListener('abort', leave, { once: true });
      shared.answer.then(
        (answer) => {
          signal.removeEventListener('abort', leave);
          resolve(answer);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', leave);
          reject(error);
        },
      );
    });
  }

  private forget(key: string, shared: SharedRun<unknown>): void {
    if (this.runs.get(key) === shared) this.runs.delete(key);
  }
}
