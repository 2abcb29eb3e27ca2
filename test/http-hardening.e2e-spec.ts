// The api's HTTP hardening over real HTTP: the server's own request ids, bounded 4xx logging, header and body
// read timeouts.
import { connect } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { ADMIN_AUTH, isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { postJson } from './support/http.js';
import { jsonLines, type LogLine } from './support/log-lines.js';

const LINES_PER_INTERVAL = 5;
const INVALID_REQUESTS = 40;
/** HTTP_REQUEST_TIMEOUT_MS of the api under test: the whole request, body included, must arrive within it. */
const REQUEST_TIMEOUT_MS = 3000;

const requestLines = (lines: LogLine[]) => lines.filter((line) => /^request /.test(line.msg ?? ''));

describe('http hardening', () => {
  const env = isolatedEnv('http-hardening');
  let api: FunnelProcess;

  beforeAll(async () => {
    api = (
      await FunnelProcess.onFreePort('api', {
        ...env,
        // Short windows: each window's summary is written by its timer while the api runs, so the test waits
        // for summaries instead of depending on how fast the machine sends (a slow machine spreads the requests
        // over more windows; every request is still accounted for once).
        LOG_4XX_LINES_PER_INTERVAL: String(LINES_PER_INTERVAL),
        LOG_4XX_INTERVAL_MS: '2000',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      })
    ).start();
    await api.waitReady();
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
  }, 40_000);

  it('closes a connection whose headers never finish', async () => {
    const { hostname, port } = new URL(api.url);
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {}); // a reset is a close too
    socket.on('data', () => {}); // a 408 may come first; only the close matters
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /v1/points HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: applica`);
    await closed;
  }, 60_000);

  it('logs the server id, with a caller x-request-id only as clientRequestId, and bounds 4xx lines', async () => {
    const given = 'hardening-same-id';
    const ok = { sensorId: 'hardening-1', metric: 'temperature', value: 1 };
    // Two requests with one caller id.
    const first = await postJson(`${api.url}/v1/points`, ok, { 'x-request-id': given });
    const second = await postJson(`${api.url}/v1/points`, ok, { 'x-request-id': given });
    const serverIds = [first.headers.get('x-request-id'), second.headers.get('x-request-id')];
    expect(serverIds[0]).not.toBe(given);
    expect(serverIds[0]).not.toBe(serverIds[1]);

    for (let i = 0; i < INVALID_REQUESTS; i += 1) {
      expect((await postJson(`${api.url}/v1/points`, { sensorId: 'x' })).status).toBe(400);
    }
    const summaryLines = (lines: LogLine[]) =>
      lines.filter((line) => /^suppressed \d+ 4xx request lines in the last \d+ s$/.test(line.msg ?? ''));
    const clientErrorLines = (lines: LogLine[]) =>
      requestLines(lines).filter((line) => (line.res as { statusCode: number }).statusCode === 400);
    const suppressedIn = (lines: LogLine[]) =>
      summaryLines(lines).reduce((sum, line) => sum + Number((line as { suppressed?: number }).suppressed), 0);
    // Every invalid request is either logged or counted in a summary, exactly once.
    await pollUntil(
      'every 400 logged or counted as suppressed',
      () => {
        const lines = jsonLines(api);
        return clientErrorLines(lines).length + suppressedIn(lines) === INVALID_REQUESTS;
      },
      { timeoutMs: 60_000 },
    );
    const lines = jsonLines(api);

    const mine = requestLines(lines).filter((line) => line.clientRequestId === given);
    expect(mine.map((line) => line.reqId).sort()).toEqual([...serverIds].sort());
    for (const line of mine) expect(line.req?.id).toBe(line.reqId);

    // Bounded: most 400 lines were suppressed, in windows of at most LINES_PER_INTERVAL written lines each.
    const summaries = summaryLines(lines);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    for (const summary of summaries) expect((summary as { suppressed?: number }).suppressed).toBeGreaterThan(0);
    expect(clientErrorLines(lines).length).toBeLessThan(INVALID_REQUESTS);
    expect(clientErrorLines(lines).length).toBeLessThanOrEqual(LINES_PER_INTERVAL * (summaries.length + 1));
  }, 120_000);
  // Last: the cut request may be logged, which must not disturb the 4xx accounting above.
  it('closes a connection whose body trickles in slower than the request timeout, and keeps serving others', async () => {
    const { hostname, port } = new URL(api.url);
    const reading = JSON.stringify([{ sensorId: 'hardening-slow', metric: 'temperature', value: 1 }]);
    // A valid, authenticated request whose body, at one byte per 250 ms, would take about 100 times the timeout.
    const body = `${reading}${' '.repeat(REQUEST_TIMEOUT_MS * 0.4 - reading.length)}`;
    const socket = connect(Number(port), hostname);
    socket.on('error', () => {}); // a reset is a close too
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    let closed = false;
    const closing = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
    socket.write(
      `POST /v1/points HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\n` +
        `authorization: ${ADMIN_AUTH.authorization}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body.slice(0, 10),
    );
    let sent = 10;
    while (!closed && sent < body.length) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (!closed) socket.write(body[sent++]!);
    }
    await closing;
    // Closed by the server before the client finished, and not for want of a token (the guard answers 401 at once).
    expect(sent).toBeLessThan(body.length);
    expect(answer).not.toMatch(/^HTTP\/1\.1 (401|403)/);
    if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 408/);
    // The api still serves other requests.
    const after = await postJson(`${api.url}/v1/points`, {
      sensorId: 'hardening-after',
      metric: 'temperature',
      value: 1,
    });
    expect(after.status).toBe(202);
  }, 240_000);
});
