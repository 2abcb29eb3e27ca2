// The web console in a real browser (Debian's chromium through playwright-core) against a real Funnel, Kafka and
// MongoDB: what it shows is checked against the api's answers and against sums made here from the readings sent.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';
import { chromium, type Browser, type Page } from 'playwright-core';

import { listSettings } from '@funnel/config';
import { FUNNEL_DIR, pollUntil } from '@funnel/dev-infra';

import { ADMIN_AUTH, isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type AggregatesAnswer } from './support/http.js';

const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of each page land here (.funnel/ is gitignored); docs/console.png is copied from explore.png. */
const SHOTS = path.join(FUNNEL_DIR, 'test-output', 'console');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Known readings of one series for the replay and live checks (GET /v1/aggregates). */
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

/**
 * Two sensors over four Berlin days (late November: CET, UTC+1 all through, so a Berlin day is [23:00Z, 23:00Z)).
 * console-a has nothing on day 2 and console-b nothing on day 1, so fill=previous has gaps to fill; a reading at
 * 23:30Z belongs to the next Berlin day. Integer values keep sums and averages exact. other-c is outside the prefix.
 */
const BERLIN_DAY0 = Date.UTC(2026, 10, 26, 23); // 2026-11-27 00:00 in Berlin
const MULTI_SENSORS = {
  'console-a': { site: 'north', days: [0, 1, 3] },
  'console-b': { site: 'south', days: [0, 2, 3] },
};
const HOURS_INTO_DAY = [0.5, 3, 7.25, 12, 18, 23.75];
const MULTI = [
  ...Object.entries(MULTI_SENSORS).flatMap(([sensorId, { site, days }], s) =>
    days.flatMap((day) =>
      HOURS_INTO_DAY.slice(0, 4 + ((day + s) % 3)).map((h, i) => ({
        sensorId,
        metric: METRIC,
        value: 5 + day * 4 + s * 20 + ((i * 7) % 11),
        ts: BERLIN_DAY0 + day * DAY + h * HOUR,
        tags: { site },
      })),
    ),
  ),
  { sensorId: 'other-c', metric: METRIC, value: 1, ts: BERLIN_DAY0 + HOUR, tags: { site: 'north' } },
];
const MULTI_FNS = ['count', 'avg', 'min', 'max', 'p50'];

/** The buckets the query should answer, computed here from MULTI: per sensor, per Berlin day, gaps filled with the previous day. */
function expectedMulti(sensorId: string) {
  return Array.from({ length: 4 }, (_, day) => {
    const start = BERLIN_DAY0 + day * DAY;
    const values = MULTI.filter((r) => r.sensorId === sensorId && r.ts >= start && r.ts < start + DAY)
      .map((r) => r.value)
      .sort((a, b) => a - b);
    return { start: new Date(start).toISOString(), values };
  }).map((bucket, day, all) => {
    // fill=previous: an empty day has count 0 and the other functions of the last day that had readings.
    const source = all
      .slice(0, day + 1)
      .reverse()
      .find((b) => b.values.length > 0)!;
    const v = source.values;
    const rank = 0.5 * (v.length - 1);
    return {
      start: bucket.start,
      count: bucket.values.length,
      avg: v.reduce((sum, x) => sum + x, 0) / v.length,
      min: v[0]!,
      max: v.at(-1)!,
      // p50 is a DDSketch estimate within 1 % of the value at rank q·(n−1): between its neighbours, ±1 %.
      p50: { lo: v[Math.floor(rank)]! * 0.99, hi: v[Math.ceil(rank)]! * 1.01 },
    };
  });
}

interface V2Answer {
  from: string;
  to: string;
  window: string;
  fns: string[];
  series: { key: Record<string, string | null>; buckets: Array<{ start: string } & Record<string, number | null>> }[];
}

interface ChartData {
  x: number[];
  lines: { key: Record<string, string | null>; fn: string; values: (number | null)[] }[];
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
  const openPage = async (width = 1280, height = 800, token = TEST_ADMIN_TOKEN, timezoneId?: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height }, acceptDownloads: true, timezoneId });
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
        key: JSON.parse(row.getAttribute('data-key')!) as Record<string, string>,
        start: row.getAttribute('data-start')!,
        ...Object.fromEntries(
          [...row.querySelectorAll('td[data-fn]')].map((td) => [
            td.getAttribute('data-fn'),
            td.getAttribute('data-value') === 'null' ? null : Number(td.getAttribute('data-value')),
          ]),
        ),
      })),
    ) as Promise<Array<{ key: Record<string, string>; start: string } & Record<string, number | null>>>;

  /** GET /v2/aggregates as the test asks it (admin token), JSON or the CSV text as sent. */
  const v2 = async (params: URLSearchParams) => {
    const res = await fetch(`${funnel.url}/v2/aggregates?${params}`, { headers: ADMIN_AUTH });
    expect(res.status).toBe(200);
    return res;
  };

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
    expect((await postJson(`${funnel.url}/v1/points`, MULTI)).status).toBe(202);
    await pollUntil('the known readings to be stored', async () => {
      const answer = await aggregates(SENSOR, METRIC, BASE, BASE + 10 * MINUTE, 'hour');
      return answer.buckets?.[0]?.count === READINGS.length;
    });
    // The catalog is kept by compaction: wait until it counts every reading of the two sensors.
    await pollUntil(
      'the catalog to count the multi-series readings',
      async () => {
        const { json } = await getJson<{ series: { sensorId: string; count: number }[] }>(
          `${funnel.url}/v1/series?sensorPrefix=console-&metric=${METRIC}`,
        );
        return Object.keys(MULTI_SENSORS).every(
          (id) => json.series?.find((s) => s.sensorId === id)?.count === MULTI.filter((r) => r.sensorId === id).length,
        );
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
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

  it('Explore: catalog picker lists the ingested series, filtered by prefix and tag', async () => {
    const page = await openPage();
    await page.goto(`${funnel.url}/ui/#/explore`);
    const listed = () =>
      page.$$eval('table.series tbody tr', (rows) => rows.map((r) => r.getAttribute('data-sensor')).sort());
    await page.getByRole('searchbox', { name: 'Sensor prefix', exact: true }).fill('console-');
    await pollUntil(
      'the catalog to list the prefix',
      async () => (await listed()).join() === 'console-a,console-b,console-boiler',
    );
    await page.getByRole('textbox', { name: 'Tags', exact: true }).fill('site=north');
    await pollUntil('the catalog to apply the tag filter', async () => (await listed()).join() === 'console-a');
    await page.close();
  }, 60_000);

  it('Explore: two series, Berlin days, p50, fill=previous: chart = /v2 answer, table = sums made here, CSV = api CSV', async () => {
    const page = await openPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(funnel.url) && !request.url().startsWith('blob:')) outside.push(request.url());
    });
    await page.goto(`${funnel.url}/`);
    await page.getByRole('searchbox', { name: 'Sensor prefix', exact: true }).fill('console-');
    for (const id of Object.keys(MULTI_SENSORS)) await page.getByRole('checkbox', { name: `${id} ${METRIC}` }).check();
    expect(await page.getByRole('combobox', { name: 'Metric', exact: true }).inputValue()).toBe(METRIC);
    await page.locator('select[name=range]').selectOption('absolute');
    // Wall-clock times without a zone: read in the chosen zone (Berlin midnight is 23:00Z the day before).
    await page.getByRole('textbox', { name: 'From', exact: true }).fill('2026-11-27 00:00');
    await page.getByRole('textbox', { name: 'To', exact: true }).fill('2026-12-01 00:00');
    await page.locator('select[name=window]').selectOption('day');
    await page.getByRole('combobox', { name: 'Time zone', exact: true }).fill('Europe/Berlin');
    await page.locator('select[name=fill]').selectOption('previous');
    await page.getByRole('combobox', { name: 'Group by', exact: true }).fill('sensorId');
    await page.getByRole('checkbox', { name: 'count', exact: true }).check();
    await page.getByRole('textbox', { name: 'Percentiles', exact: true }).fill('p50');
    await page.getByRole('button', { name: 'Show' }).click();
    // Ticking count queried at once; wait for the answer of Show (with p50), not that earlier one.
    await page.waitForSelector('[aria-busy=false] table.buckets tbody tr:nth-child(8) td[data-fn=p50]');

    const query = new URLSearchParams({
      metric: METRIC,
      sensorId: 'console-a,console-b',
      from: new Date(BERLIN_DAY0).toISOString(),
      to: new Date(BERLIN_DAY0 + 4 * DAY).toISOString(),
      window: 'day',
      tz: 'Europe/Berlin',
      fns: MULTI_FNS.join(','),
      groupBy: 'sensorId',
      fill: 'previous',
    });
    const api = (await (await v2(query)).json()) as V2Answer;
    expect(api.series.map((s) => s.key)).toEqual([{ sensorId: 'console-a' }, { sensorId: 'console-b' }]);

    // The chart draws exactly the api's buckets: one line per series and function.
    const chart = await chartOf(page);
    const starts = api.series[0]!.buckets.map((b) => Date.parse(b.start));
    expect(chart.x).toEqual(starts);
    expect(chart.lines.map(({ key, fn, values }) => ({ key, fn, values }))).toEqual(
      api.series.flatMap((s) => MULTI_FNS.map((fn) => ({ key: s.key, fn, values: s.buckets.map((b) => b[fn]) }))),
    );

    // The table's values equal what this test computes from the readings it posted.
    const rows = await tableRows(page);
    const expected = Object.keys(MULTI_SENSORS).flatMap((sensorId) =>
      expectedMulti(sensorId).map((b) => ({ key: { sensorId }, ...b })),
    );
    expect(rows.map((r) => [r.key, r.start, r.count, r.min, r.max])).toEqual(
      expected.map((e) => [e.key, e.start, e.count, e.min, e.max]),
    );
    rows.forEach((row, i) => {
      const e = expected[i]!;
      expect(row.avg).toBeCloseTo(e.avg, 9);
      expect({ at: [row.key, row.start], p50: row.p50, ok: row.p50! >= e.p50.lo && row.p50! <= e.p50.hi }).toEqual({
        at: [e.key, e.start],
        p50: row.p50,
        ok: true,
      });
    });
    // The gaps were filled: console-a's day 2 and console-b's day 1 have no readings.
    expect(rows.filter((r) => r.count === 0).map((r) => [r.key.sensorId, r.start])).toEqual([
      ['console-a', new Date(BERLIN_DAY0 + 2 * DAY).toISOString()],
      ['console-b', new Date(BERLIN_DAY0 + DAY).toISOString()],
    ]);

    // Download CSV saves the api's own CSV, byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = fs.readFileSync(await download.path());
    query.set('format', 'csv');
    const apiCsv = Buffer.from(await (await v2(query)).arrayBuffer());
    expect(csv.toString('utf8')).toBe(apiCsv.toString('utf8'));
    expect(csv.equals(apiCsv)).toBe(true);
    await shot(page, 'explore');

    // The URL holds the whole query: a fresh page on it shows the same chart and table.
    const url = page.url();
    expect(url).toContain('#/explore?');
    const again = await openPage();
    await again.goto(url);
    await again.waitForSelector('[aria-busy=false] table.buckets tbody tr:nth-child(8) td[data-fn=p50]');
    expect(await chartOf(again)).toEqual(chart);
    expect(await tableRows(again)).toEqual(rows);

    // Keyboard zoom on the focused chart: + halves the range around its middle, ← moves it back a quarter.
    const hashQuery = (p: Page) => new URLSearchParams(new URL(p.url()).hash.split('?')[1]);
    const hashRange = (p: Page) => ['from', 'to'].map((name) => Date.parse(hashQuery(p).get(name)!));
    await again.locator('.chart').focus();
    await again.keyboard.press('+');
    await pollUntil(
      'the keyboard zoom in the URL',
      async () => hashQuery(again).get('range') === 'absolute' && hashQuery(again).get('window') === 'auto',
    );
    const zoomedIn = { from: BERLIN_DAY0 + DAY, to: BERLIN_DAY0 + 3 * DAY };
    expect(hashRange(again)).toEqual([zoomedIn.from, zoomedIn.to]);
    // The new answer arrives with a finer window than a day; then ← pans by a quarter of the new range.
    await pollUntil('the zoomed chart', async () => {
      const x = (await chartOf(again)).x;
      return x.length > 1 && x[0]! >= zoomedIn.from && x[1]! - x[0]! < DAY;
    });
    await again.locator('.chart').focus();
    await again.keyboard.press('ArrowLeft');
    const panned = [zoomedIn.from - DAY / 2, zoomedIn.to - DAY / 2];
    await pollUntil('the keyboard pan in the URL', async () => hashRange(again)[0] === panned[0]);
    expect(hashRange(again)[1]).toBe(panned[1]);
    await pollUntil('the panned chart', async () => (await chartOf(again)).x[0] === panned[0]);

    // Dragging across the chart zooms too: a narrower absolute range, window auto, queried again.
    const before = again.url();
    const box = (await again.locator('.chart .u-over').boundingBox())!;
    await again.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await again.mouse.down();
    await again.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2, { steps: 5 });
    await again.mouse.up();
    await pollUntil('the dragged zoom in the URL', async () => again.url() !== before);
    const dragged = hashQuery(again);
    expect(dragged.get('window')).toBe('auto');
    expect(Date.parse(dragged.get('from')!)).toBeGreaterThan(panned[0]!);
    expect(Date.parse(dragged.get('to')!)).toBeLessThan(panned[1]!);

    // Phone width: still usable (a screenshot to look at; the controls stack).
    await again.setViewportSize({ width: 390, height: 844 });
    await shot(again, 'explore-phone');
    await page.close();
    await again.close();
    expect(outside).toEqual([]);
  }, 90_000);

  it("Explore: the default zone is the browser's: calendar days of the browser's zone, times shown in it", async () => {
    // A browser in Kolkata (UTC+5:30): its days start at 18:30Z, which neither UTC nor the test box's zone gives.
    const page = await openPage(1280, 800, TEST_ADMIN_TOKEN, 'Asia/Kolkata');
    const view = new URLSearchParams({
      metric: METRIC,
      sensorId: 'console-a',
      range: 'absolute',
      from: '2026-11-27T00:00:00Z',
      to: '2026-11-29T00:00:00Z',
      window: 'day',
      fns: 'count',
    });
    await page.goto(`${funnel.url}/ui/#/explore?${view}`);
    await page.waitForSelector('table.buckets tbody tr');
    const query = new URLSearchParams({
      metric: METRIC,
      sensorId: 'console-a',
      from: '2026-11-27T00:00:00Z',
      to: '2026-11-29T00:00:00Z',
      window: 'day',
      tz: 'Asia/Kolkata',
      fns: 'count',
    });
    const api = (await (await v2(query)).json()) as V2Answer;
    const starts = api.series[0]!.buckets.map((b) => b.start);
    expect(starts[0]).toBe('2026-11-26T18:30:00.000Z');
    expect((await tableRows(page)).map((r) => [r.start, r.count])).toEqual(
      api.series[0]!.buckets.map((b) => [b.start, b.count]),
    );
    // Chromium's ICU names the zone by its older alias Asia/Calcutta; the api knows both.
    expect(await page.getByTestId('summary').textContent()).toMatch(/ day in Asia\/(Kolkata|Calcutta),/);
    // Shown in the browser's zone: the first Kolkata day starts at its local midnight.
    expect(await page.locator('table.buckets tbody th').first().textContent()).toMatch(/^2026-11-27 00:00:00 /);
    await page.close();
  }, 40_000);

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

  it('GET /v1/tokens/self says who the caller is; with a read token the console offers no replay', async () => {
    const created = await postJson<{ token: string; id: string }>(`${funnel.url}/v1/tokens`, { scope: 'read' });
    expect(created.status).toBe(201);
    const limited = await postJson<{ token: string; id: string }>(`${funnel.url}/v1/tokens`, {
      scope: 'write',
      sensorPrefix: 'plant-a.',
    });
    const self = async (token?: string) =>
      getJson<Record<string, unknown>>(
        `${funnel.url}/v1/tokens/self`,
        token ? { authorization: `Bearer ${token}` } : {},
      );
    expect(await self(created.json.token)).toMatchObject({
      status: 200,
      json: { id: created.json.id, scopes: ['read'], sensorPrefix: null },
    });
    // Any valid token may ask, a prefix-limited one included; admin implies every scope.
    expect((await self(limited.json.token)).json).toEqual({
      id: limited.json.id,
      scopes: ['write'],
      sensorPrefix: 'plant-a.',
    });
    expect((await self()).json).toMatchObject({ scopes: ['read', 'write', 'admin'], sensorPrefix: null });
    expect((await self('not-a-token-at-all-000000000')).status).toBe(401);
    const openapi = (
      await getJson<{ paths: Record<string, { get?: { responses: object } }> }>(`${funnel.url}/docs-json`)
    ).json;
    expect(Object.keys(openapi.paths['/v1/tokens/self']!.get!.responses).sort()).toEqual(['200', '401', '403', '429']);

    const page = await openPage(1280, 800, created.json.token);
    await page.goto(`${funnel.url}/ui/#/dead-letters`);
    await page.getByTestId('needs-admin').waitFor();
    expect(await page.getByTestId('needs-admin').textContent()).toContain(
      `this token (${created.json.id}) may use read`,
    );
    expect(await page.getByRole('button', { name: /Replay/ }).count()).toBe(0);
    expect(await page.locator('table.letters').count()).toBe(0);
    await shot(page, 'dead-letters-read-token');
    await page.close();
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
