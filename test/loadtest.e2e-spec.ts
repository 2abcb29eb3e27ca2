import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { runProcess, Scrape } from '@funnel/dev-infra';

import { isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';

const LOADTEST = path.resolve('dist/apps/loadtest/src/main.js');

/** Runs the built load-testing tool as a user would, with flags and LOADTEST_* variables; `out` is all it printed. */
function loadtest(args: string[], env: Record<string, string>) {
  // The api runs with auth on and the tests' admin token (LOADTEST_TOKEN: a token on argv would be visible).
  return runProcess(process.execPath, {
    args: [LOADTEST, ...args],
    env: { ...process.env, LOADTEST_TOKEN: TEST_ADMIN_TOKEN, ...env },
  });
}

/** A short, light load: a few seconds, small batches, one query user, freshness markers every 200 ms. */
const LIGHT = [
  '--duration=3',
  '--connections=4',
  '--sensors=5',
  '--metrics-per-sensor=2',
  '--batch=20',
  '--query-users=1',
  '--query-rate=20',
  '--freshness-interval=200',
  '--settle-timeout=30000',
  '--progress-interval=1000',
];

describe('load-testing tool (apps/loadtest) against a running Funnel', () => {
  const env = isolatedEnv('loadtest');
  let funnel: FunnelProcess;
  let mongo: MongoClient;
  let dir: string;

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', env)).start();
    mongo = new MongoClient(env.MONGODB_URI!);
    dir = await mkdtemp(path.join(tmpdir(), 'funnel-loadtest-'));
    await funnel.waitReady();
  }, 90_000);

  afterAll(async () => {
    await funnel?.stop();
    await mongo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 40_000);

  /** Readings of one run as MongoDB holds them, counted by the test itself: every sensor id starts with the run id. */
  const storedOf = (runId: string) =>
    mongo
      .db()
      .collection('points')
      .countDocuments({ 'meta.sensorId': { $regex: `^${runId}-` } });

  it('reports throughput, latency, statuses, freshness and queries, and accepted == stored; --json holds the same report', async () => {
    const json = path.join(dir, 'report.json');
    const before = await Scrape.of(`${funnel.url}/metrics`);
    const run = await loadtest([...LIGHT, '--run-id=lta', `--json=${json}`, '--slo=p99<60s,errors=0'], {
      LOADTEST_TARGET: funnel.url,
    });
    expect({ code: run.code, signal: run.signal }).toEqual({ code: 0, signal: null });

    const report = JSON.parse(await readFile(json, 'utf8'));
    expect(report.runId).toBe('lta');
    expect(report.target).toBe(funnel.url);
    // Producers: every request answered 202 and counted its readings.
    expect(report.ingest.statuses).toEqual({ '202': report.ingest.requests });
    expect(report.ingest.errors).toBe(0);
    expect(report.ingest.readingsAccepted).toBe(report.ingest.requests * 20);
    // Drain accounting, checked against the api's own counters over the run: readings counted from the 202s
    // are the readings the api accepted, every POST the api answered was counted once, and no answer to the
    // drain's GET /health/live (200) was counted as a POST.
    const after = await Scrape.of(`${funnel.url}/metrics`);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.sum(name, labels) - before.sum(name, labels);
    expect(delta('funnel_readings_accepted_total')).toBe(report.ingest.readingsAccepted + report.freshness.markers);
    expect(delta('funnel_http_requests_total', { method: 'POST', route: '/v1/points', status: '202' })).toBe(
      report.ingest.requests + report.freshness.markers,
    );
    expect(delta('funnel_http_requests_total', { method: 'POST', route: '/v1/points' })).toBe(
      report.ingest.requests + report.freshness.markers,
    );
    expect(report.ingest.statuses['200']).toBeUndefined();
    expect(report.ingest.readingsPerSec).toBeGreaterThan(0);
    for (const key of ['p50', 'p99', 'p999']) expect(report.ingest.latencyMs[key]).toEqual(expect.any(Number));
    // Freshness markers were posted and seen by a query.
    expect(report.freshness.markers).toBeGreaterThan(0);
    expect(report.freshness.visible).toBe(report.freshness.markers);
    expect(report.freshness.ms.p50).toEqual(expect.any(Number));
    expect(report.freshness.ms.p99).toEqual(expect.any(Number));
    // Query users ran aggregate queries that all answered 200.
    expect(report.queries.requests).toBeGreaterThan(0);
    expect(report.queries.statuses).toEqual({ '200': report.queries.requests });
    expect(report.queries.latencyMs.p99).toEqual(expect.any(Number));
    // Reconciliation through the api: accepted (producers + markers) == stored, and MongoDB agrees.
    expect(report.reconciliation).toMatchObject({ method: 'aggregates', ok: true, missing: 0 });
    expect(report.reconciliation.accepted).toBe(report.ingest.readingsAccepted + report.freshness.markers);
    expect(report.reconciliation.stored).toBe(report.reconciliation.accepted);
    expect(await storedOf('lta')).toBe(report.reconciliation.accepted);
    expect(report.slo).toEqual([
      { expr: 'p99<60s', actual: report.ingest.latencyMs.p99, pass: true },
      { expr: 'errors=0', actual: 0, pass: true },
    ]);
    expect(report.passed).toBe(true);

    // The printed report carries the same numbers as the JSON file.
    const n = (x: number) => x.toLocaleString('en-US');
    expect(run.out).toContain(`accepted ${report.reconciliation.accepted} · stored ${report.reconciliation.stored}`);
    expect(run.out).toContain(`202: ${report.ingest.requests}`);
    expect(run.out).toContain(`(${report.freshness.visible}/${report.freshness.markers} markers seen)`);
    expect(run.out).toContain(`${n(Math.round(report.ingest.readingsPerSec))} readings/s accepted`);
    // Without a TTY, progress comes as plain lines: no carriage returns or escape codes redrawing one line.
    const progress = run.out.split('\n').filter((line) => line.startsWith('[loadtest] '));
    expect(progress.some((line) => /^\[loadtest\] \d+\/3 s · /.test(line))).toBe(true);
    expect(progress.filter((line) => line.includes('\r') || line.includes('\u001b'))).toEqual([]);
  }, 60_000);

  it('exits 1 when an --slo threshold is missed, still reconciling (counted in MongoDB)', async () => {
    const run = await loadtest([...LIGHT, '--run-id=ltb', '--query-users=0', '--freshness-interval=0'], {
      LOADTEST_TARGET: funnel.url,
      LOADTEST_SLO: 'p99<0.001ms',
      LOADTEST_MONGODB_URI: env.MONGODB_URI!,
    });
    expect(run.code).toBe(1);
    expect(run.out).toContain('SLO missed');
    expect(run.out).toMatch(/slo +p99<0\.001ms: MISSED \(actual [\d.,]+\)/);
    const accepted = Number(/accepted (\d+) · stored (\d+) \(mongodb\) · OK/.exec(run.out)?.[1]);
    expect(accepted).toBeGreaterThan(0);
    expect(await storedOf('ltb')).toBe(accepted);
  }, 60_000);

  it('exits 2 on an --slo it cannot parse, before sending any load', async () => {
    const run = await loadtest(['--run-id=ltc', '--slo=p98<5ms'], { LOADTEST_TARGET: funnel.url });
    expect(run.code).toBe(2);
    expect(run.out).toContain('unknown metric');
    expect(await storedOf('ltc')).toBe(0);
  }, 30_000);
});
