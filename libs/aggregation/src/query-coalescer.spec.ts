// Unit tests of QueryCoalescer with work the test ends when it wants: sharing, errors, settling, callers leaving.
import { describe, expect, it } from '@jest/globals';

import type { FunnelConfig } from '@funnel/config';
import { Scrape } from '@funnel/dev-infra';
import { MetricsRegistry } from '@funnel/metrics';

import { tick, track } from './promise-state.testing.js';
import { canonicalKey, QueryCoalescer } from './query-coalescer.js';
import { QueryMetrics } from './query-metrics.js';
import { QueryUnavailable } from './query-rejected.js';

/** Work that counts its starts, keeps the signal each start got, and ends when the test says. */
function held<T = string>() {
  const signals: AbortSignal[] = [];
  let end!: (value: T) => void;
  let fail!: (error: Error) => void;
  const done = new Promise<T>((resolve, reject) => {
    end = resolve;
    fail = reject;
  });
  return {
    signals,
    end,
    fail,
    work: (signal?: AbortSignal) => {
      signals.push(signal!);
      return done;
    },
  };
}

function coalescer(enabled = true) {
  const registry = new MetricsRegistry('api', 'test');
  return {
    coalescer: new QueryCoalescer({ QUERY_COALESCE: enabled } as FunnelConfig, new QueryMetrics(registry)),
    coalesced: async () => Scrape.parse(await registry.metrics()).value('funnel_query_coalesced_total'),
  };
}

describe('QueryCoalescer', () => {
  it('runs two identical queries in flight once, and both get the answer', async () => {
    const { coalescer: c, coalesced } = coalescer();
    const run = held<{ rows: number[] }>();
    const a = c.run('k', run.work);
    const b = c.run('k', run.work);
    run.end({ rows: [1, 2] });
    const [first, second] = await Promise.all([a, b]);
    expect(run.signals).toHaveLength(1);
    expect(first).toEqual({ rows: [1, 2] });
    expect(second).toBe(first);
    expect(await coalesced()).toBe(1);
  });

  it('runs queries with different keys each on their own', async () => {
    const { coalescer: c, coalesced } = coalescer();
    const one = held();
    const two = held();
    const a = c.run('k1', one.work);
    const b = c.run('k2', two.work);
    one.end('one');
    two.end('two');
    expect(await Promise.all([a, b])).toEqual(['one', 'two']);
    expect([one.signals.length, two.signals.length]).toEqual([1, 1]);
    expect(await coalesced()).toBe(0);
  });

  it('gives the run’s error to every caller that joined it', async () => {
    const { coalescer: c } = coalescer();
    const run = held();
    const callers = [c.run('k', run.work), c.run('k', run.work), c.run('k', run.work)];
    const error = new QueryUnavailable('busy', 1);
    run.fail(error);
    const errors = await Promise.all(callers.map((p) => p.catch((e: unknown) => e)));
    expect(errors).toEqual([error, error, error]);
    expect(run.signals).toHaveLength(1);
  });

  it('runs a query anew once the run it would have joined has settled: no cache, answer or error', async () => {
    const { coalescer: c, coalesced } = coalescer();
    const first = held();
    const a = c.run('k', first.work);
    first.end('first');
    await a;
    const second = held();
    const b = c.run('k', second.work);
    second.end('second');
    expect(await b).toBe('second');

    const failing = held();
    const failed = c.run('k', failing.work).catch((e: unknown) => e);
    failing.fail(new Error('gone wrong'));
    await failed;
    const third = held();
    const d = c.run('k', third.work);
    third.end('third');
    expect(await d).toBe('third');
    expect([first, second, failing, third].map((r) => r.signals.length)).toEqual([1, 1, 1, 1]);
    expect(await coalesced()).toBe(0);
  });

  it('rejects only the caller that went away (as the gate does), and the run goes on for the other', async () => {
    const { coalescer: c } = coalescer();
    const run = held();
    const leaving = new AbortController();
    const staying = new AbortController();
    const left = track(c.run('k', run.work, leaving.signal));
    const stays = track(c.run('k', run.work, staying.signal));
    leaving.abort();
    await tick();
    expect(left.error).toBeInstanceOf(QueryUnavailable);
    expect((left.error as Error).message).toBe('the client went away while the query waited for its answer');
    expect(stays.settled).toBe(false);
    expect(run.signals[0]!.aborted).toBe(false);
    run.end('answer');
    await tick();
    expect(stays).toEqual({ value: 'answer', settled: true });
  });

  it('aborts the shared run once every caller has gone, and the next identical query starts its own', async () => {
    const { coalescer: c, coalesced } = coalescer();
    const run = held();
    const callers = [new AbortController(), new AbortController()];
    const states = callers.map((caller) => track(c.run('k', run.work, caller.signal)));
    callers[0]!.abort();
    expect(run.signals[0]!.aborted).toBe(false);
    callers[1]!.abort();
    expect(run.signals[0]!.aborted).toBe(true);
    await tick();
    expect(states.map((s) => s.error instanceof QueryUnavailable)).toEqual([true, true]);
    // The aborted run is still settling (the gate may hold it): a new caller does not join it.
    const next = held();
    const fresh = c.run('k', next.work);
    next.end('fresh');
    expect(await fresh).toBe('fresh');
    expect(await coalesced()).toBe(1);
  });

  it('never aborts a run one caller without a signal waits for', async () => {
    const { coalescer: c } = coalescer();
    const run = held();
    const leaving = new AbortController();
    const left = track(c.run('k', run.work, leaving.signal));
    const stays = c.run('k', run.work);
    leaving.abort();
    await tick();
    expect(left.error).toBeInstanceOf(QueryUnavailable);
    expect(run.signals[0]!.aborted).toBe(false);
    run.end('answer');
    expect(await stays).toBe('answer');
  });

  it('refuses a caller already gone without starting anything', async () => {
    const { coalescer: c } = coalescer();
    const run = held();
    const gone = new AbortController();
    gone.abort();
    await expect(c.run('k', run.work, gone.signal)).rejects.toBeInstanceOf(QueryUnavailable);
    expect(run.signals).toHaveLength(0);
  });

  it('with QUERY_COALESCE false runs every query on its own, with its own signal', async () => {
    const { coalescer: c, coalesced } = coalescer(false);
    const run = held();
    const caller = new AbortController();
    const a = c.run('k', run.work, caller.signal);
    const b = c.run('k', run.work);
    run.end('answer');
    expect(await Promise.all([a, b])).toEqual(['answer', 'answer']);
    expect(run.signals).toEqual([caller.signal, undefined]);
    expect(await coalesced()).toBe(0);
  });
});

describe('canonicalKey', () => {
  const query = {
    selector: { metrics: ['temp', 'hum'], tags: { site: 'north', line: 'l1' } },
    from: 1,
    to: 2,
    window: { kind: 'fixed', ms: 60_000 },
    fns: [{ name: 'count' }, { name: 'p95', quantile: 0.95 }],
    groupBy: ['tag.site'],
    fill: 'none',
  };

  it('is the same whatever order object fields (tag filters included) were given in', () => {
    const reordered = {
      fill: 'none',
      groupBy: ['tag.site'],
      fns: [{ name: 'count' }, { quantile: 0.95, name: 'p95' }],
      window: { ms: 60_000, kind: 'fixed' },
      to: 2,
      from: 1,
      selector: { tags: { line: 'l1', site: 'north' }, metrics: ['temp', 'hum'], sensorPrefix: undefined },
    };
    expect(canonicalKey(reordered)).toBe(canonicalKey(query));
  });

  it.each([
    ['a metric list in another order', { selector: { ...query.selector, metrics: ['hum', 'temp'] } }],
    ['another tag value', { selector: { ...query.selector, tags: { site: 'south', line: 'l1' } } }],
    ['a range a millisecond apart', { to: 3 }],
    ['another window', { window: { kind: 'fixed', ms: 30_000 } }],
    ['another quantile', { fns: [{ name: 'count' }, { name: 'p99', quantile: 0.99 }] }],
    ['another groupBy', { groupBy: [] }],
    ['another fill', { fill: 'zero' }],
  ])('differs for %s', (_what, change) => {
    expect(canonicalKey({ ...query, ...change })).not.toBe(canonicalKey(query));
  });

  it('refuses a value that would stringify as {} (a Set or a Map) rather than make two queries one key', () => {
    expect(() => canonicalKey({ ...query, groupBy: new Set(['tag.site']) })).toThrow(TypeError);
    expect(() => canonicalKey({ selector: { tags: new Map([['site', 'north']]) } })).toThrow(TypeError);
  });
});
