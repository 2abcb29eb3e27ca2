// The web console in a real browser (Debian's chromium through playwright-core) against a real Funnel, Kafka and
// MongoDB: what it shows is checked against the api's answers and against sums made here from the readings sent.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { chromium, type Browser, type Page } from 'playwright-core';

import { listSettings } from '@funnel/config';
import { FUNNEL_DIR, pollUntil } from '@funnel/dev-infra';

import { expectedBuckets } from './support/dataset.js';
import { isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer } from './support/http.js';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of each page land here (.funnel/ is gitignored); docs/console.png is copied from explore.png. */
const SHOTS = path.join(FUNNEL_DIR, 'test-output', 'console');
const FNS = ['avg', 'min', 'max', 'sum', 'count'] as const;
const MINUTE = 60_000;

/** Known readings: 6 minutes of one series, 1-4 readings a minute, integer values (sums and averages exact). */
const BASE = Date.UTC(2026, 10, 28, 4, 0, 0);
const SENSOR = 'console-boiler';
const METRIC = 'temperature';
const READINGS = Array.from({ length: 6 }, (_, minute) =>
  Array.from({ length: 1 + (minute % 4) }, (_, i) => ({
    sensorId: SENSOR,
    metric: METRIC,
    value: 10 + minute * 3 - i * 7,
    ts: BASE + minute * MINUTE + i * 11_000,
  })),
).flat();

interface ChartData {
  x: number[];
  series: Record<string, number[]>;
}

describe('web console (/ui) in headless Chromium', () => {
  const env = isolatedEnv('console');
  let funnel: FunnelProcess;
  let mongo: MongoClient;
  let browser: Browser;
  const pageErrors: string[] = [];

  const aggregates = async (sensorId: string, metric: string, from: number, to: number, window: string) => {
    const query = new URLSearchParams({
      sensorId,
      metric,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      window,
    });
    return (await getJson<AggregatesAnswer>(`${funnel.url}/v1/aggregates?${query}`)).json;
  };

  /** A page whose session holds `token` (the operator's admin token unless told otherwise), as the Token field keeps it. */
  const openPage = async (width = 1280, height = 800, token = TEST_ADMIN_TOKEN): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height }, acceptDownloads: true });
    if (token) await page.addInitScript(`sessionStorage.setItem('funnel.console.token', ${JSON.stringify(token)})`);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    return page;
  };

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

  const tableRows = (page: Page) =>
    page.$$eval('table.buckets tbody tr', (rows) =>
      rows.map((row) => ({
        start: row.getAttribute('data-start'),
        ...Object.fromEntries(
          [...row.querySelectorAll('td[data-fn]')].map((td) => [
            td.getAttribute('data-fn'),
            Number(td.getAttribute('data-value')),
          ]),
        ),
      })),
    );

  const chartOf = (page: Page) => page.evaluate('window.funnelConsole.chart') as Promise<ChartData>;

  beforeAll(async () => {
    fs.mkdirSync(SHOTS, { recursive: true });
    funnel = (await FunnelProcess.onFreePort('all', env)).start();
    mongo = new MongoClient(env.MONGODB_URI);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    await funnel.waitReady();
    expect((await postJson(`${funnel.url}/v1/points`, READINGS)).status).toBe(202);
    await pollUntil('the known readings to be stored', async () => {
      const answer = await aggregates(SENSOR, METRIC, BASE, BASE + 10 * MINUTE, 'hour');
      return answer.buckets?.[0]?.count === READINGS.length;
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await funnel?.stop();
    await mongo?.close();
  }, 40_000);

  it('is served at /ui (/ redirects there) with no outside requests, within its bundle budget', async () => {
    const root = await fetch(`${funnel.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui/');
    const html = await (await fetch(`${funnel.url}/ui/`)).text();
    // Every asset is local: no http(s):// URL in the page, scripts and styles under ./assets/.
    expect(html).not.toMatch(/(src|href)="https?:/);
    const assets = [...html.matchAll(/(?:src|href)="\.\/(assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(1);
    let gzipped = 0;
    for (const asset of assets) {
      const res = await fetch(`${funnel.url}/ui/${asset}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(res.status).toBe(200);
      gzipped += (await import('node:zlib')).gzipSync(Buffer.from(await res.arrayBuffer())).length;
    }
    expect(gzipped).toBeLessThan(300 * 1024);
  }, 30_000);

  it('Explore: chart = api buckets, table = independent sums, CSV = expected, URL reopens the view', async () => {
    const from = BASE;
    const to = BASE + 6 * MINUTE;
    const expected = expectedBuckets(READINGS, { sensorId: SENSOR, metric: METRIC, from, to, binMs: MINUTE });
    const page = await openPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(funnel.url) && !request.url().startsWith('blob:')) outside.push(request.url());
    });
    await page.goto(`${funnel.url}/`);
    await page.getByRole('textbox', { name: 'Sensor id', exact: true }).fill(SENSOR);
    await page.getByRole('textbox', { name: 'Metric', exact: true }).fill(METRIC);
    await page.locator('select[name=range]').selectOption('absolute');
    await page.getByRole('textbox', { name: 'From', exact: true }).fill(new Date(from).toISOString());
    await page.getByRole('textbox', { name: 'To', exact: true }).fill(new Date(to).toISOString());
    await page.locator('select[name=window]').selectOption('minute');
    await page.getByRole('combobox', { name: 'Time zone', exact: true }).fill('UTC');
    for (const fn of ['sum', 'count']) await page.getByRole('checkbox', { name: fn }).check();
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForSelector(`table.buckets tbody tr >> nth=${expected.length - 1}`);

    const api = await aggregates(SENSOR, METRIC, from, to, 'minute');
    expect(api.buckets).toHaveLength(expected.length);
    const chart = await chartOf(page);
    expect(chart.x).toEqual(api.buckets.map((b) => Date.parse(b.start)));
    for (const fn of FNS) expect(chart.series[fn]).toEqual(api.buckets.map((b) => b[fn]));

    const rows = await tableRows(page);
    expect(rows).toEqual(
      expected.map((b) => ({ start: b.start, ...Object.fromEntries(FNS.map((fn) => [fn, b[fn]])) })),
    );

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const expectedCsv = [
      ['start', ...FNS].join(','),
      ...expected.map((b) => [b.start, ...FNS.map((fn) => String(b[fn]))].join(',')),
    ].join('\n');
    expect(csv).toBe(`${expectedCsv}\n`);
    await shot(page, 'explore');

    // The URL holds the whole query: a fresh page on it shows the same buckets and functions.
    const url = page.url();
    expect(url).toContain('#/explore?');
    const again = await openPage();
    await again.goto(url);
    await again.waitForSelector(`table.buckets tbody tr >> nth=${expected.length - 1}`);
    expect(await chartOf(again)).toEqual(chart);
    expect(await tableRows(again)).toEqual(rows);

    // Dragging across the chart zooms: an absolute, narrower range with a finer window, queried again.
    const box = (await again.locator('.chart .u-over').boundingBox())!;
    await again.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await again.mouse.down();
    await again.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await again.mouse.up();
    await pollUntil('the zoomed query in the URL', async () => new URL(again.url()).hash !== new URL(url).hash);
    const zoomed = new URLSearchParams(new URL(again.url()).hash.split('?')[1]);
    expect(zoomed.get('window')).toBe('auto');
    expect(Date.parse(zoomed.get('from')!)).toBeGreaterThan(from);
    expect(Date.parse(zoomed.get('to')!)).toBeLessThan(to);

    // Phone width: still usable (a screenshot to look at; the controls stack).
    await again.setViewportSize({ width: 390, height: 844 });
    await shot(again, 'explore-phone');
    await page.close();
    await again.close();
    expect(outside).toEqual([]);
  }, 60_000);

  it('Live: shows a reading posted after the page opened, within a few seconds', async () => {
    const page = await openPage();
    await page.goto(`${funnel.url}/ui/#/live?sensorId=live-sensor&metric=pressure&every=1000`);
    await page.waitForSelector('[data-testid=live-value]');
    const ts = Date.now() - 2_000;
    expect(
      (await postJson(`${funnel.url}/v1/points`, { sensorId: 'live-sensor', metric: 'pressure', value: 42.5, ts }))
        .status,
    ).toBe(202);
    const value = await page.waitForFunction(
      "document.querySelector('[data-testid=live-value]')?.getAttribute('data-value') || undefined",
      undefined,
      { timeout: 20_000 },
    );
    expect(await value.jsonValue()).toBe('42.5');
    expect(await page.getAttribute('[data-testid=live-time]', 'data-value')).toBe(
      new Date(ts - (ts % 1000)).toISOString(),
    );
    await shot(page, 'live');
    await page.close();
  }, 40_000);

  it('Pipeline: shows each process with its health, lag and latencies read through GET /v1/pipeline', async () => {
    const status = (
      await getJson<{ processes: { role: string; readingsAccepted: number; health: { status: string } }[] }>(
        `${funnel.url}/v1/pipeline`,
      )
    ).json;
    expect(status.processes).toHaveLength(1);
    expect(status.processes[0]).toMatchObject({ role: 'all', health: { status: 'ok' } });
    expect(status.processes[0]!.readingsAccepted).toBeGreaterThanOrEqual(READINGS.length + 1);
    const page = await openPage();
    await page.goto(`${funnel.url}/ui/#/pipeline`);
    await page.waitForSelector('[data-testid=process][data-role=all]');
    expect(await page.textContent('[data-testid=health]')).toContain('ready');
    // The rate needs two answers: wait for the second instead of sleeping.
    await page.waitForFunction(
      "/readings\\/s/.test(document.querySelector('[data-testid=ingest-rate]')?.textContent ?? '')",
      undefined,
      { timeout: 20_000 },
    );
    await shot(page, 'pipeline');
    await page.close();
  }, 40_000);

  it('without a token says the api needs one instead of showing data', async () => {
    const page = await openPage(1280, 800, '');
    await page.goto(`${funnel.url}/ui/#/dead-letters`);
    await page.getByText('401 Unauthorized: this api needs a token', { exact: false }).first().waitFor();
    await page.close();
    // The browser logs the 401 this page asked for; only that one is expected.
    const unexpected = pageErrors.filter((e) => !e.includes('status of 401'));
    pageErrors.splice(0, pageErrors.length, ...unexpected);
  }, 60_000);

  it('Dead letters: lists a letter with its content, replays it, and its reading is then stored', async () => {
    // A valid record that a faulty worker dead-lettered: what the worker stores, written as it would write it.
    const id = `${env.KAFKA_TOPIC}:0:999999`;
    const ts = BASE + 30 * MINUTE;
    const value = JSON.stringify({
      v: 1,
      receivedAt: Date.now(),
      points: [{ id: 'replayed-1', sensorId: 'replayed-sensor', metric: 'flow', value: 7.25, ts }],
    });
    const collection = listSettings().find((s) => s.name === 'MONGODB_COLLECTION')!.default;
    await mongo
      .db()
      .collection(`${collection}_dead_letters`)
      .insertOne({
        _id: id as never,
        sourceTopic: env.KAFKA_TOPIC,
        partition: 0,
        offset: '999999',
        reason: 'rejected by a faulty worker build',
        key: null,
        value,
        deadLetteredAt: new Date(),
      });
    const page = await openPage();
    await page.goto(`${funnel.url}/ui/#/dead-letters`);
    const row = page.locator(`tr[data-id="${id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('rejected by a faulty worker build');
    await row.getByRole('button', { name: 'Show' }).click();
    expect(await page.textContent('[data-testid=letter-content]')).toContain('"sensorId": "replayed-sensor"');
    await row.getByRole('checkbox').check();
    await shot(page, 'dead-letters');
    await page.getByRole('button', { name: /Replay selected/ }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed 1 dead letter' }).waitFor();
    await pollUntil('the replayed reading to be stored', async () => {
      const answer = await aggregates('replayed-sensor', 'flow', ts, ts + MINUTE, 'minute');
      return answer.buckets?.length === 1 && answer.buckets[0]!.sum === 7.25;
    });
    // The list now says when it was replayed.
    expect(await row.locator('td').nth(4).textContent()).not.toBe('no');
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

describe('GET /v1/pipeline with the api and a worker in separate processes', () => {
  const env = isolatedEnv('console-split');
  let worker: FunnelProcess;
  let api: FunnelProcess;
  /** A port nothing listens on: a worker that is down. */
  const DOWN = 'http://127.0.0.1:9';

  beforeAll(async () => {
    worker = (await FunnelProcess.onFreePort('worker', env)).start();
    await worker.waitReady();
    api = (
      await FunnelProcess.onFreePort('api', { ...env, PIPELINE_WORKER_URLS: `http://127.0.0.1:${worker.port},${DOWN}` })
    ).start();
    await api.waitReady();
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
  }, 40_000);

  it('lists the api, each configured worker with its lag and counters, and a worker that is down', async () => {
    const readings = Array.from({ length: 25 }, (_, i) => ({ sensorId: 'split', metric: 'm', value: i }));
    expect((await postJson(`${api.url}/v1/points`, readings)).status).toBe(202);
    interface Status {
      processes: {
        url: string;
        role: string | null;
        reachable: boolean;
        health: { status: string; checks: Record<string, unknown> };
        readingsAccepted: number;
        readingsWritten: number;
        consumerLag: { partition: number }[];
      }[];
    }
    let status: Status | undefined;
    await pollUntil('the worker to report the 25 readings written', async () => {
      status = (await getJson<Status>(`${api.url}/v1/pipeline`)).json;
      return status.processes[1]?.readingsWritten === 25;
    });
    const [self, live, down] = status!.processes;
    expect(self).toMatchObject({ url: api.url, role: 'api', reachable: true, readingsAccepted: 25 });
    expect(self!.health.status).toBe('ok');
    expect(live).toMatchObject({ url: `http://127.0.0.1:${worker.port}`, role: 'worker', reachable: true });
    expect(live!.health).toMatchObject({ status: 'ok', checks: { mongodb: { status: 'up' } } });
    expect(live!.consumerLag.map((l) => l.partition).sort()).toEqual([0, 1, 2]);
    expect(down).toMatchObject({ url: DOWN, role: null, reachable: false, health: { status: 'unreachable' } });
    const refused = await getJson<{ message: string[] }>(`${api.url}/v1/pipeline?worker=x`);
    expect(refused.status).toBe(400);
    expect(refused.json.message.join()).toContain('"worker" is not known');
    // Documented in the OpenAPI document like every other route.
    const openapi = (await getJson<{ paths: Record<string, unknown> }>(`${api.url}/docs-json`)).json;
    expect(Object.keys(openapi.paths)).toContain('/v1/pipeline');
  }, 60_000);
});
