// InfluxDB line protocol end to end: the real @influxdata/influxdb-client writes to /api/v2/write (gzip'd, as it
// sends bodies over 1 kB), the 1.x /write takes other precisions, bad lines are refused all or nothing, and the
// stored aggregates equal an independent calculation over the readings sent. Compressed bodies on every ingest
// route: gzip/deflate/br accepted, a zip bomb 413, a truncated stream 400, an unknown Content-Encoding 415.
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib';

import { HttpError, InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import { describe, expect, it } from '@jest/globals';

import { pollUntil, Scrape } from '@funnel/dev-infra';
import { readingDocId } from '@funnel/storage';

import { expectedBuckets, makeReadings, type Reading } from './support/dataset.js';
import { isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { processForSuite } from './support/funnel-process.js';
import { getJson, type AggregatesAnswer } from './support/http.js';
import { workerCaughtUp } from './support/kafka.js';
import { storedCount, withMongo } from './support/mongo.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - HOUR;
/** Sent through the client: measurement `weather`, fields `temperature` (float) and `count` (integer). */
const READINGS = makeReadings({
  seed: 14,
  sensors: ['lp-1', 'lp-2'],
  metrics: ['x'],
  start: START,
  spanMs: HOUR,
  perSeries: 1500,
});

async function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8', authorization: `Token ${TEST_ADMIN_TOKEN}`, ...headers },
    body,
  });
  return { status: res.status, text: await res.text() };
}

describe('InfluxDB line protocol and compressed bodies (role all)', () => {
  const env = isolatedEnv('lineproto');
  const suite = processForSuite('all', env);

  const aggregates = async (sensorId: string, metric: string) => {
    const qs = new URLSearchParams({ sensorId, metric, from: String(START), to: String(END), window: '5m' });
    const res = await getJson<AggregatesAnswer>(`${suite().url}/v1/aggregates?${qs}`);
    expect(res.status).toBe(200);
    return res.json.buckets;
  };

  it('stores what the real InfluxDB client writes; aggregates equal an independent calculation', async () => {
    const client = new InfluxDB({ url: suite().url, token: TEST_ADMIN_TOKEN });
    const write = client.getWriteApi('org', 'bucket', 'ns', { batchSize: 500, flushInterval: 0, maxRetries: 0 });
    for (const r of READINGS) {
      write.writePoint(
        new Point('weather')
          .tag('sensor', r.sensorId)
          .tag('site', 'plant a, east') // a space and a comma: escaped by the client
          .floatField('temperature', r.value)
          .intField('count', Math.round(r.value))
          .timestamp(`${r.ts}000000`),
      );
    }
    await write.close(); // flushes; rejects if any write was refused
    const sent: Reading[] = READINGS.flatMap((r) => [
      { ...r, metric: 'weather.temperature' },
      { ...r, metric: 'weather.count', value: Math.round(r.value) },
    ]);
    await pollUntil('all readings stored', async () => (await storedCount(env.MONGODB_URI)) >= sent.length, {
      timeoutMs: 60_000,
    });
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI)).toBe(sent.length);
    expect(await storedCount(env.MONGODB_URI, { 'meta.tags.site': 'plant a, east' })).toBe(sent.length);
    for (const sensorId of ['lp-1', 'lp-2']) {
      for (const metric of ['weather.temperature', 'weather.count']) {
        const got = await aggregates(sensorId, metric);
        const want = expectedBuckets(sent, { sensorId, metric, from: START, to: END, binMs: 5 * MINUTE });
        expect(got.map((b) => [b.start, b.count, b.min, b.max])).toEqual(
          want.map((b) => [b.start, b.count, b.min, b.max]),
        );
        got.forEach((b, i) => expect(b.sum).toBeCloseTo(want[i]!.sum, 6));
      }
    }
  }, 120_000);

  it('the 1.x /write takes precision s, and a retried timestamped body is stored once', async () => {
    const ts = Math.floor((START + 10 * MINUTE) / 1000);
    const body = `# a comment\n\nfunnel,host=v1-host,site=a reading=1.5,other=2u ${ts}\nfunnel,host=v1-host reading=2.5 ${ts + 60}\n`;
    const url = `${suite().url}/write?db=telegraf&precision=s`;
    expect((await post(url, body, {})).status).toBe(204);
    expect((await post(url, body, {})).status).toBe(204); // a retry: same content, same ids
    await pollUntil(
      'v1 readings stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'v1-host' })) >= 3,
    );
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'v1-host' })).toBe(3);
    const got = await aggregates('v1-host', 'reading');
    expect(got.map((b) => [b.count, b.sum])).toEqual([[2, 4]]);
  }, 60_000);

  it('a timestamped body sent again once it was stored is found by the id check and stored once', async () => {
    const ts = START + 20 * MINUTE;
    const lines = Array.from({ length: 300 }, (_, i) => `funnel,host=lp-again-${i % 3} reading=${i} ${ts + i}`);
    const url = `${suite().url}/api/v2/write?org=o&bucket=b&precision=ms`;
    const isAgain = { 'meta.sensorId': { $regex: '^lp-again-' } };
    expect((await post(url, lines.join('\n'), {})).status).toBe(204);
    await pollUntil('first copy stored', async () => (await storedCount(env.MONGODB_URI, isAgain)) >= 300);
    await workerCaughtUp(env);
    const before = await Scrape.of(`${suite().url}/metrics`);
    // The client retries (say its answer was lost): a later batch, so only the id check can tell.
    expect((await post(url, lines.join('\n'), {})).status).toBe(204);
    const dropped = async () => (await Scrape.of(`${suite().url}/metrics`)).sum('funnel_duplicates_dropped_total');
    const droppedBefore = before.sum('funnel_duplicates_dropped_total');
    await pollUntil('retry checked', async () => (await dropped()) - droppedBefore >= 300);
    await workerCaughtUp(env);
    const after = await Scrape.of(`${suite().url}/metrics`);
    const delta = (name: string) => after.sum(name) - before.sum(name);
    expect(delta('funnel_duplicates_dropped_total')).toBe(300);
    expect(delta('funnel_id_check_query_readings_sum')).toBe(300);
    expect(await storedCount(env.MONGODB_URI, isAgain)).toBe(300);
    const counted = await Promise.all(
      [0, 1, 2].map(async (i) => (await aggregates(`lp-again-${i}`, 'reading')).reduce((n, b) => n + b.count, 0)),
    );
    expect(counted).toEqual([100, 100, 100]);
    // Where the server made a regular collection (the stand-in), the check read them by their key-derived _id.
    const docs = await withMongo(env.MONGODB_URI, async (db) => {
      const caps = (await db.listCollections({ name: 'points' }).toArray()).find((c) => c.name === 'points');
      const regular = caps?.type !== 'timeseries';
      return { regular, docs: await db.collection('points').find(isAgain).toArray() };
    });
    if (docs.regular) {
      for (const d of docs.docs) {
        expect(d._id.toHexString()).toBe(
          readingDocId({ id: d.id, sensorId: d.meta.sensorId, metric: d.meta.metric }).toHexString(),
        );
      }
    }
  }, 60_000);

  it('refuses a body with bad lines whole, listing each bad line and why; the client sees the 400', async () => {
    const ts = `${START + 20 * MINUTE}000000`;
    const body = [
      `weather,sensor=bad-1 temperature=1 ${ts}`,
      `weather,sensor=bad-1 state="on" ${ts}`,
      `weather,sensor=bad-1 ok=true ${ts}`,
      `weather,site=x temperature=1 ${ts}`,
      `weather,sensor=bad\\ 1 temperature=1 ${ts}`,
      `weather,sensor=bad-1 temperature=1 1${ts}`,
    ].join('\n');
    const res = await post(`${suite().url}/api/v2/write?org=o&bucket=b&precision=ns`, body, {});
    expect(res.status).toBe(400);
    const answer = JSON.parse(res.text) as { code: string; errors: { line: number; reason: string }[] };
    expect(answer.code).toBe('invalid');
    expect(answer.errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6]);
    expect(answer.errors[0]!.reason).toMatch(/string/);
    expect(answer.errors[1]!.reason).toMatch(/boolean/);
    expect(answer.errors[2]!.reason).toMatch(/sensor tag/);
    expect(answer.errors[3]!.reason).toMatch(/sensorId/);
    expect(answer.errors[4]!.reason).toMatch(/ts .*future/);

    // The client logs the refusal it is about to report; the test reads the report instead.
    setLogger({ error: () => undefined, warn: () => undefined });
    const client = new InfluxDB({ url: suite().url, token: TEST_ADMIN_TOKEN });
    const write = client.getWriteApi('o', 'b', 'ns', { maxRetries: 0, flushInterval: 0 });
    write.writeRecord(`weather,sensor=bad-2 state="on"`);
    const refused = await write.close().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(HttpError);
    expect((refused as HttpError).statusCode).toBe(400);
    expect((refused as HttpError).json).toMatchObject({
      message: expect.stringMatching(/line 1: field "state" is a string/),
    });

    for (const precision of ['x', 'n']) {
      expect((await post(`${suite().url}/api/v2/write?precision=${precision}`, 'm,host=h f=1', {})).status).toBe(400);
    }
    expect((await post(`${suite().url}/api/v2/write`, '# only a comment\n', {})).status).toBe(400);
    // Written after the refused ones: once it is stored, the refused readings would have been too.
    expect((await post(`${suite().url}/api/v2/write`, 'weather,sensor=bad-marker t=1', {})).status).toBe(204);
    await pollUntil(
      'marker stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'bad-marker' })) === 1,
    );
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: ['bad-1', 'bad-2'] } })).toBe(0);
  }, 60_000);

  it('takes gzip, deflate and br bodies on line protocol and JSON, and refuses bombs, truncation and unknown encodings', async () => {
    const ts = START + 30 * MINUTE;
    const lines = (sensor: string) =>
      `weather,sensor=${sensor} t=1 ${ts}000000\nweather,sensor=${sensor} t=2 ${ts + 1}000000`;
    const lp = `${suite().url}/api/v2/write`;
    expect((await post(lp, gzipSync(lines('gz-lp')), { 'content-encoding': 'gzip' })).status).toBe(204);
    expect((await post(lp, deflateSync(lines('df-lp')), { 'content-encoding': 'deflate' })).status).toBe(204);
    expect((await post(lp, brotliCompressSync(lines('br-lp')), { 'content-encoding': 'br' })).status).toBe(204);
    const json = JSON.stringify([
      { sensorId: 'gz-json', metric: 't', value: 1, ts },
      { sensorId: 'gz-json', metric: 't', value: 2, ts: ts + 1 },
    ]);
    const points = `${suite().url}/v1/points`;
    const jsonHeaders = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    expect((await post(points, gzipSync(json), jsonHeaders)).status).toBe(202);

    // 256 MiB of zeros in about 250 kB: refused once MAX_BODY_BYTES decoded bytes were seen, on both kinds of route.
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 });
    const truncated = gzipSync(lines('trunc')).subarray(0, 20);
    for (const [body, status, says] of [
      [bomb, 413, /MAX_BODY_BYTES/],
      [truncated, 400, /gzip/],
    ] as const) {
      for (const [url, headers] of [
        [lp, { 'content-encoding': 'gzip' }],
        [points, jsonHeaders],
      ] as const) {
        const res = await post(url, body, headers);
        expect([url, res.status]).toEqual([url, status]);
        expect(res.text).toMatch(says);
      }
    }
    for (const url of [lp, points]) {
      const res = await post(url, lines('zstd'), {
        'content-encoding': 'compress',
        'content-type': url === lp ? 'text/plain' : 'application/json',
      });
      expect(res.status).toBe(415);
      expect(res.text).toMatch(/Content-Encoding/);
    }
    // Plain text sent as gzip: not a gzip stream.
    expect((await post(lp, lines('not-gz'), { 'content-encoding': 'gzip' })).status).toBe(400);
    // JSON to the line-protocol route and line protocol to the JSON route: wrong media types.
    expect((await post(lp, json, { 'content-type': 'application/json' })).status).toBe(415);
    expect((await post(points, lines('lp-json'), {})).status).toBe(415);

    const sensors = ['gz-lp', 'df-lp', 'br-lp', 'gz-json'];
    await pollUntil(
      'compressed readings stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: sensors } })) >= 8,
    );
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: sensors } })).toBe(8);
    expect(
      await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: ['trunc', 'zstd', 'not-gz', 'lp-json'] } }),
    ).toBe(0);
    // Still serving after the bombs.
    expect((await getJson(`${suite().url}/health/live`)).status).toBe(200);
  }, 90_000);
});
