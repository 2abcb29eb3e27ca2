// Unit tests of QueryGate with a plain config: slots, the FIFO queue, its refusals, the run's timeout, the metrics.
import { describe, expect, it } from '@jest/globals';

import type { FunnelConfig } from '@funnel/config';
import { Scrape } from '@funnel/dev-infra';
import { MetricsRegistry } from '@funnel/metrics';

import { tick, track } from './promise-state.testing.js';
import { QueryGate, type QueryGateConfig } from './query-gate.js';
import { QueryMetrics } from './query-metrics.js';
import { QueryTimedOut, QueryUnavailable } from './query-rejected.js';

/** Work the test ends when it wants: `end()` resolves it, `fail()` rejects it. */
function held<T = string>(value?: T) {
  let end!: () => void;
  let fail!: (error: Error) => void;
  const started = { count: 0 };
  const done = new Promise<T>((resolve, reject) => {
    end = () => resolve(value as T);
    fail = reject;
  });
  return {
    started,
    end,
    fail,
    work: () => {
      started.count++;
      return done;
    },
  };
}

function gate(settings: Partial<QueryGateConfig> = {}) {
  const config: QueryGateConfig = {
    MAX_CONCURRENT_QUERIES: 1,
    MAX_QUEUED_QUERIES: 10,
    QUERY_QUEUE_WAIT_MS: 60_000,
    QUERY_TIMEOUT_MS: 60_000,
    ...settings,
  };
  const registry = new MetricsRegistry('api', 'test');
  const metrics = new QueryMetrics(registry);
  return {
    gate: new QueryGate(config as FunnelConfig, metrics),
    scrape: async () => Scrape.parse(await registry.metrics()),
  };
}

describe('QueryGate', () => {
  it('runs a query at once while a slot is free, and answers what it answers', async () => {
    const { gate: g, scrape } = gate({ MAX_CONCURRENT_QUERIES: 2 });
    await expect(g.run(async () => 'a')).resolves.toBe('a');
    const s = await scrape();
    expect(s.value('funnel_query_queue_wait_seconds_count', { outcome: 'admitted' })).toBe(1);
    expect(s.value('funnel_query_queue_wait_seconds_sum', { outcome: 'admitted' })).toBe(0);
    expect(s.value('funnel_queries_running')).toBe(0);
  });

  it('queues queries while every slot is taken and runs them first in, first out as slots free', async () => {
    const { gate: g, scrape } = gate({ MAX_CONCURRENT_QUERIES: 2 });
    const first = held('first');
    const second = held('second');
    const order: string[] = [];
    const answers = [
      g.run(first.work),
      g.run(second.work),
      ...['q3', 'q4', 'q5'].map((name) =>
        g.run(async () => {
          order.push(name);
          return name;
        }),
      ),
    ].map(track);
    await tick();
    expect(order).toEqual([]);
    let s = await scrape();
    expect(s.value('funnel_queries_running')).toBe(2);
    expect(s.value('funnel_queries_queued')).toBe(3);

    second.end(); // one slot frees: the queries behind take it one after the other, in arrival order
    await tick();
    await tick();
    expect(order).toEqual(['q3', 'q4', 'q5']);
    expect(answers.slice(2).map((a) => a.value)).toEqual(['q3', 'q4', 'q5']);
    expect(answers[0]!.settled).toBe(false);
    first.end();
    await tick();
    expect(answers[0]!.value).toBe('first');
    s = await scrape();
    expect(s.value('funnel_queries_running')).toBe(0);
    expect(s.value('funnel_queries_queued')).toBe(0);
    expect(s.value('funnel_query_queue_wait_seconds_count', { outcome: 'admitted' })).toBe(5);
  });

  it('lets a query that finds every slot taken wait, then run once a slot frees', async () => {
    const { gate: g } = gate();
    const first = held('first');
    const running = track(g.run(first.work));
    const waiting = held('second');
    const queued = track(g.run(waiting.work));
    await tick();
    expect(waiting.started.count).toBe(0);
    first.end();
    await tick();
    expect(running.value).toBe('first');
    expect(waiting.started.count).toBe(1);
    waiting.end();
    await tick();
    expect(queued.value).toBe('second');
  });

  it('refuses a query that waited QUERY_QUEUE_WAIT_MS, naming the setting, and gives no slot to it later', async () => {
    const { gate: g, scrape } = gate({ QUERY_QUEUE_WAIT_MS: 20 });
    const first = held();
    void g.run(first.work);
    const late = held();
    const refusal = await g.run(late.work).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QueryUnavailable);
    expect(refusal).not.toBeInstanceOf(QueryTimedOut);
    expect((refusal as Error).message).toContain('QUERY_QUEUE_WAIT_MS (20 ms)');
    expect((refusal as QueryUnavailable).retryAfterSeconds).toBeGreaterThan(0);
    first.end();
    await tick();
    expect(late.started.count).toBe(0);
    const s = await scrape();
    expect(s.value('funnel_queries_refused_total', { reason: 'wait_exceeded' })).toBe(1);
    expect(s.value('funnel_query_queue_wait_seconds_count', { outcome: 'wait_exceeded' })).toBe(1);
    expect(s.value('funnel_query_queue_wait_seconds_sum', { outcome: 'wait_exceeded' })).toBeGreaterThan(0);
    expect(s.value('funnel_queries_queued')).toBe(0);
    // The slot is free again for the next query.
    await expect(g.run(async () => 'next')).resolves.toBe('next');
  });

  it('refuses at once when MAX_QUEUED_QUERIES wait already, naming both limits', async () => {
    const { gate: g, scrape } = gate({ MAX_QUEUED_QUERIES: 2 });
    const first = held();
    const answers = [g.run(first.work), g.run(async () => 'q2'), g.run(async () => 'q3')].map(track);
    const refusal = await g.run(async () => 'q4').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QueryUnavailable);
    expect((refusal as Error).message).toContain('MAX_CONCURRENT_QUERIES (1)');
    expect((refusal as Error).message).toContain('MAX_QUEUED_QUERIES (2)');
    expect((await scrape()).value('funnel_queries_refused_total', { reason: 'queue_full' })).toBe(1);
    first.end();
    await tick();
    await tick();
    expect(answers.map((a) => a.value)).toEqual([undefined, 'q2', 'q3']);
  });

  it.each([
    { QUERY_QUEUE_WAIT_MS: 0, MAX_QUEUED_QUERIES: 100 },
    { QUERY_QUEUE_WAIT_MS: 5000, MAX_QUEUED_QUERIES: 0 },
  ])('refuses at once when every slot is taken and there is no queue (%j)', async (settings) => {
    const { gate: g } = gate(settings);
    const first = held();
    void g.run(first.work);
    const refusal = await g.run(async () => 'no').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(QueryUnavailable);
    expect((refusal as Error).message).toContain('MAX_CONCURRENT_QUERIES (1)');
    expect((refusal as Error).message).toContain('there is no queue');
    first.end();
  });

  it('times the run out after QUERY_TIMEOUT_MS, counted from the slot and not from the wait', async () => {
    const { gate: g, scrape } = gate({ QUERY_TIMEOUT_MS: 30 });
    const first = held('first');
    const running = track(g.run(first.work));
    const queued = track(g.run(async () => 'second'));
    // The first query's run times out while it holds the slot; the second still waits.
    while (!running.settled) await tick();
    expect(running.error).toBeInstanceOf(QueryTimedOut);
    expect((running.error as Error).message).toContain('QUERY_TIMEOUT_MS (30 ms)');
    expect(queued.settled).toBe(false);
    first.end();
    await tick();
    await tick();
    // It waited longer than QUERY_TIMEOUT_MS, and its quick run is still answered.
    expect(queued.value).toBe('second');
    expect((await scrape()).value('funnel_queries_refused_total', { reason: 'timeout' })).toBe(1);
  });

  it("holds a timed-out query's slot until its work ends, as before the queue", async () => {
    const { gate: g, scrape } = gate({ QUERY_TIMEOUT_MS: 10, QUERY_QUEUE_WAIT_MS: 0 });
    const slow = held();
    await expect(g.run(slow.work)).rejects.toBeInstanceOf(QueryTimedOut);
    expect((await scrape()).value('funnel_queries_running')).toBe(1);
    await expect(g.run(async () => 'busy')).rejects.toThrow(/MAX_CONCURRENT_QUERIES \(1\)/);
    slow.fail(new Error('the read stopped on its deadline'));
    await tick();
    await expect(g.run(async () => 'free')).resolves.toBe('free');
  });

  it('frees the slot of a query that failed, and passes its error on', async () => {
    const { gate: g } = gate();
    await expect(
      g.run(async () => {
        throw new Error('MongoDB is down');
      }),
    ).rejects.toThrow('MongoDB is down');
    await tick();
    await expect(g.run(async () => 'next')).resolves.toBe('next');
  });

  it('takes a waiting query out of the queue when its client goes away', async () => {
    const { gate: g, scrape } = gate();
    const first = held();
    void g.run(first.work);
    const client = new AbortController();
    const gone = held();
    const leaving = track(g.run(gone.work, client.signal));
    const after = track(g.run(async () => 'after'));
    await tick();
    client.abort();
    await tick();
    expect(leaving.error).toBeInstanceOf(QueryUnavailable);
    let s = await scrape();
    expect(s.value('funnel_queries_queued')).toBe(1);
    expect(s.value('funnel_query_queue_wait_seconds_count', { outcome: 'client_gone' })).toBe(1);
    first.end();
    await tick();
    await tick();
    expect(gone.started.count).toBe(0);
    expect(after.value).toBe('after');
    s = await scrape();
    expect(s.value('funnel_queries_running')).toBe(0);
  });
});
