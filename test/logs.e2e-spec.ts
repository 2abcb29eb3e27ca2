import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { Scrape } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { postJson } from './support/http.js';
import { jsonLines } from './support/log-lines.js';

/** POSTs readings to the ingest route under the given request id. */
function post(url: string, body: unknown, requestId: string) {
  return postJson(`${url}/v1/points`, body, { 'x-request-id': requestId });
}

const READINGS = [
  { sensorId: 'log-1', metric: 'temperature', value: 1 },
  { sensorId: 'log-1', metric: 'temperature', value: 2 },
];

describe('structured logs', () => {
  const env = isolatedEnv('logs');
  let worker: FunnelProcess;
  let api: FunnelProcess;
  let quiet: FunnelProcess;

  beforeAll(async () => {
    worker = (await FunnelProcess.onFreePort('worker', env)).start();
    // MAX_INFLIGHT_POINTS=1: any request of two readings is refused for backpressure (503), which the
    // exception filter logs through Nest's Logger while the request is being handled.
    api = (await FunnelProcess.onFreePort('api', { ...env, MAX_INFLIGHT_POINTS: '1' })).start();
    quiet = (await FunnelProcess.onFreePort('api', { ...env, LOG_LEVEL: 'warn' })).start();
    await Promise.all([worker.waitReady(), api.waitReady(), quiet.waitReady()]);

    expect((await post(api.url, READINGS, 'logs-e2e-refused')).status).toBe(503);
    expect((await post(api.url, READINGS.slice(0, 1), 'logs-e2e-accepted')).status).toBe(202);
    expect((await post(quiet.url, READINGS, 'logs-e2e-quiet')).status).toBe(202);
    // Stopped, so every line (shutdown included) is in the output.
    await Promise.all([api.stop(), worker.stop(), quiet.stop()]);
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop(), quiet?.stop()]);
  }, 40_000);

  it('writes only JSON lines, each with the role of the process, a level and a time', () => {
    for (const [process, role] of [
      [api, 'api'],
      [worker, 'worker'],
      [quiet, 'api'],
    ] as const) {
      const lines = jsonLines(process);
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect({ role: line.role, level: typeof line.level, time: typeof line.time }).toEqual({
          role,
          level: 'number',
          time: 'string',
        });
      }
    }
  });

  it("routes Nest's Logger through the JSON logger (context kept)", () => {
    const lines = jsonLines(worker);
    expect(lines.some((line) => line.context === 'NestApplication' && line.level === 30)).toBe(true);
    expect(lines.some((line) => line.context === 'funnel:worker' && /^listening on /.test(line.msg ?? ''))).toBe(true);
  });

  it('logs each HTTP request once with the caller-supplied request id as clientRequestId', () => {
    const lines = jsonLines(api);
    for (const [id, msg, level, statusCode] of [
      ['logs-e2e-refused', 'request errored', 40, 503],
      ['logs-e2e-accepted', 'request completed', 30, 202],
    ] as const) {
      const requestLines = lines.filter((line) => /^request /.test(line.msg ?? '') && line.clientRequestId === id);
      expect(requestLines).toHaveLength(1);
      expect(requestLines[0]).toMatchObject({ msg, level, res: { statusCode } });
      expect(requestLines[0].req?.id).toBe(requestLines[0].reqId);
      expect(requestLines[0].reqId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('puts the request id on lines logged while handling that request', () => {
    const lines = jsonLines(api);
    const refusal = lines.filter((line) => line.level === 40 && /send queue full/.test(line.msg ?? ''));
    expect(refusal).toHaveLength(1);
    const refused = lines.find((line) => line.msg === 'request errored' && line.clientRequestId === 'logs-e2e-refused');
    expect(refusal[0].req?.id).toBe(refused?.reqId);
  });

  it('writes no line per reading at info', () => {
    const lines = jsonLines(api);
    expect(lines.filter((line) => JSON.stringify(line).includes('log-1'))).toEqual([]);
  });

  it('LOG_LEVEL=warn suppresses info lines, request lines included', () => {
    const lines = jsonLines(quiet);
    expect(lines.filter((line) => line.level < 40)).toEqual([]);
    expect(lines.some((line) => line.msg === 'request completed')).toBe(false);
  });
});

describe('backpressure refusals are counted', () => {
  it('counts the refused request and its readings', async () => {
    const env = isolatedEnv('backpressure');
    const api = await FunnelProcess.onFreePort('api', { ...env, MAX_INFLIGHT_POINTS: '1' });
    try {
      await api.start().waitReady();
      expect((await post(api.url, READINGS, 'bp-1')).status).toBe(503);
      const scrape = await Scrape.of(`${api.url}/metrics`);
      expect(scrape.value('funnel_backpressure_refusals_total')).toBe(1);
      expect(scrape.value('funnel_readings_rejected_total', { reason: 'backpressure' })).toBe(READINGS.length);
      expect(scrape.value('funnel_readings_accepted_total')).toBe(0);
      expect(scrape.value('funnel_http_requests_total', { route: '/v1/points', status: '503' })).toBe(1);
    } finally {
      await api.stop();
    }
  }, 60_000);
});
