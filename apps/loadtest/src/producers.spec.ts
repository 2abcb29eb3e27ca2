// Tests the producers against a real HTTP server: pacing, warm-up accounting and the drain.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from '@jest/globals';

import { Producers, type ProducersOptions, readingsPerBody } from './producers.js';

interface Counts {
  posts: number;
  /** Readings in the POSTs answered 202, counted by the server from the bodies it got. */
  accepted: number;
  byStatus: Record<string, number>;
  gets: number;
  /** performance.now() at each POST's arrival. */
  postTimes: number[];
}

/**
 * A stand-in api: POST /v1/points answers 202 {accepted} after `delayMs(n)` (so POSTs are in flight when the
 * drain starts), or `statusOf(n)` for the n-th POST; a `statusOf` of 0 leaves that POST unanswered.
 * GET /health/live answers 200.
 */
async function standIn(delayMs: (n: number) => number, statusOf: (n: number) => number = () => 202) {
  const counts: Counts = { posts: 0, accepted: 0, byStatus: {}, gets: 0, postTimes: [] };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/health/live') {
      counts.gets++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counts.postTimes.push(performance.now());
      const n = counts.posts++;
      const status = statusOf(n);
      if (status === 0) return;
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString());
      const readings = Array.isArray(parsed) ? parsed.length : 1;
      setTimeout(() => {
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
        if (status === 202) counts.accepted += readings;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 202 ? JSON.stringify({ accepted: readings }) : '{"message":"no"}');
      }, delayMs(n));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { counts, server, target: `http://127.0.0.1:${port}` };
}

const bodies = (batch: number) =>
  Array.from({ length: 8 }, (_, i) =>
    JSON.stringify(Array.from({ length: batch }, (_, j) => ({ sensorId: `s${i}`, metric: `m${j}`, value: j }))),
  );

describe('Producers', () => {
  let server: Server | undefined;
  /** Runs producers (4 connections, 1 s, no rate, 5 s timeout unless told) against the stand-in until done. */
  const produce = async (
    api: { server: Server; target: string },
    opts: Partial<ProducersOptions> & { batch: number },
  ) => {
    server = api.server;
    const { batch, ...rest } = opts;
    const producers = new Producers({
      target: api.target,
      bodies: bodies(batch),
      connections: 4,
      requestRate: 0,
      durationS: 1,
      timeoutS: 5,
      ...rest,
    });
    await producers.run();
    return producers;
  };
  afterEach(async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  });

  it('counts readings accepted from the 202s exactly as the api did, waits for every POST in flight, never counts a drain GET', async () => {
    // Every 7th POST is refused with 503; answers take 5-100 ms, so most connections have a POST in flight at the switch.
    const api = await standIn(
      (n) => 5 + ((n * 37) % 96),
      (n) => (n % 7 === 6 ? 503 : 202),
    );
    const producers = await produce(api, {
      batch: 3,
      connections: 8,
    });

    expect(api.counts.gets).toBeGreaterThan(0); // the drain switched to GET /health/live
    expect(producers.readingsAccepted).toBe(api.counts.accepted);
    expect(producers.readingsAccepted).toBe(3 * (api.counts.byStatus['202'] ?? 0));
    // Every POST the api got was answered and counted once, by its status; no 200 (the GETs) among them.
    expect(producers.statuses.counts).toEqual(api.counts.byStatus);
    expect(producers.statuses.counts['200']).toBeUndefined();
    expect(producers.requests).toBe(api.counts.posts);
    expect(producers.latency.count).toBe(api.counts.posts);
    expect(producers.statuses.errors).toBe(api.counts.byStatus['503']);
    expect(producers.unknownFate).toBe(0);
    // The run lasted at least the duration (how much longer depends on the machine: that is the bench's to measure).
    expect(producers.elapsedS).toBeGreaterThanOrEqual(1);
  }, 15_000);

  it('counts a POST that times out as of unknown fate, not as accepted', async () => {
    // The 3rd POST is never answered; its connection times out after 1 s, within or after the 1 s of load.
    const api = await standIn(
      () => 20,
      (n) => (n === 2 ? 0 : 202),
    );
    const producers = await produce(api, {
      batch: 2,
      timeoutS: 1,
    });

    expect(producers.unknownFate).toBe(1);
    expect(producers.statuses.count('timeout')).toBe(1);
    expect(producers.readingsAccepted).toBe(api.counts.accepted);
    expect(producers.statuses.count(202)).toBe(api.counts.byStatus['202']);
    expect(producers.requests).toBe(api.counts.posts);
  }, 15_000);

  it("spreads --rate evenly over time instead of sending each second's quota at once; the drain GETs go at once", async () => {
    // 40 requests/s on 4 connections: one every 25 ms, each connection every 100 ms. autocannon's own rate
    // sent each connection's 10 back to back at the start of each second.
    const api = await standIn(() => 1);
    const started = performance.now();
    const producers = await produce(api, {
      batch: 1,
      requestRate: 40,
      durationS: 1.5,
    });
    // Each connection's next request after the switch is a GET, sent at once if it was waiting.
    expect(api.counts.gets).toBeGreaterThanOrEqual(1);
    expect(producers.statuses.counts).toEqual(api.counts.byStatus);
    expect(producers.statuses.counts['200']).toBeUndefined();
    expect(producers.requests).toBe(api.counts.posts);
    expect(producers.readingsAccepted).toBe(api.counts.accepted);
    // Paced, never ahead of schedule: the n-th POST (from 0) arrives no sooner than n/rate after the start, so
    // autocannon's bursts (a connection's 10 back to back at the start of each second) would fail here. A busy
    // machine only delays requests, so this holds however loaded it is; how even the pace is belongs in the bench.
    const slackMs = 2; // timers may fire up to a millisecond early after rounding
    const early = api.counts.postTimes
      .map((t, n) => ({ n, aheadMs: started + n * 25 - t }))
      .filter(({ aheadMs }) => aheadMs > slackMs);
    expect(early).toEqual([]);
    expect(api.counts.posts).toBeGreaterThan(0);
  }, 15_000);

  it('leaves the warm-up out of the latency and the measured rate, not out of the readings accepted', async () => {
    // The POSTs of the first 0.5 s (10 at 20/s) answer in 60 ms, later ones in 1 ms; at 10/s per
    // connection, none is held back.
    const api = await standIn((n) => (n < 10 ? 60 : 1));
    const producers = await produce(api, {
      batch: 2,
      connections: 2,
      requestRate: 20,
      warmupS: 0.5,
      durationS: 1,
    });
    expect(producers.readingsAccepted).toBe(api.counts.accepted);
    expect(producers.readingsAccepted).toBe(2 * api.counts.posts);
    // The ones answered after the first 0.5 s are measured: some, not all.
    expect(producers.measured.accepted).toBeLessThan(api.counts.posts);
    expect(producers.measured.accepted).toBeGreaterThan(0);
    expect(producers.measured.readingsAccepted).toBe(2 * producers.measured.accepted);
    expect(producers.latency.count).toBe(producers.measured.accepted);
    // The measured time is the run's less exactly the warm-up.
    expect(producers.elapsedS - producers.measured.elapsedS).toBeCloseTo(0.5, 6);
  }, 15_000);

  it('takes the readings per POST from the bodies, which must all hold the same number', () => {
    expect(readingsPerBody(bodies(5))).toBe(5);
    expect(readingsPerBody(['{"sensorId":"a","metric":"m","value":1}'])).toBe(1);
    expect(() => readingsPerBody(['[{}]', '[{},{}]'])).toThrow('different numbers of readings: 1, 2');
    expect(() => readingsPerBody([])).toThrow();
  });
});
