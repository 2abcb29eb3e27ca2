/** Holds the real api and worker to the four holes issue 13's review found in its validation and binding. */
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';

import { afterAll, beforeAll, describe, expect, it, test } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { freePort } from '@funnel/dev-infra';

import { ADMIN_AUTH, isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { workerCaughtUp } from './support/kafka.js';

interface Reply {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

async function request(url: string, body?: unknown): Promise<Reply> {
  const res = await fetch(
    url,
    body === undefined
      ? { headers: ADMIN_AUTH }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        },
  );
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

/** An HTTP answer read off a raw socket. */
interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  text: string;
}

/**
 * Writes a request's head (content-length `length`) and then `body` — only if given: without it the body is never
 * sent, so an answer proves the server decided without reading it. Resolves once a whole answer was read.
 */
function headFirst(url: string, head: Record<string, string>, length: number, body?: Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let received = Buffer.alloc(0);
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${why}; read so far: ${received.toString('latin1').slice(0, 300)}`));
    };
    const timer = setTimeout(() => fail('no whole answer within 20 s'), 20_000);
    socket.on('error', (error) => fail(error.message));
    socket.on('close', () => fail('connection closed before a whole answer'));
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(
        lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
      );
      const bodyBytes = Number(headers.get('content-length') ?? 0);
      if (received.length < end + 4 + bodyBytes) return;
      clearTimeout(timer);
      socket.removeAllListeners('close');
      socket.destroy();
      const text = received.subarray(end + 4, end + 4 + bodyBytes).toString('utf8');
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text });
    });
    const lines = Object.entries({ host: `${hostname}:${port}`, ...head, 'content-length': String(length) });
    socket.write(`POST /v1/points HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    if (body) socket.write(body);
  });
}

describe('holes found by the review (issue 13)', () => {
  const env = isolatedEnv('holes');
  let funnel: FunnelProcess;
  let mongo: MongoClient;
  /** Sensor ids of every refused request: none of them may ever be stored. */
  const refused: string[] = [];

  const stored = (sensorId: string) => mongo.db().collection('points').countDocuments({ 'meta.sensorId': sensorId });
  const aggregates = (query: string) => request(`${funnel.url}/v1/aggregates?${query}`);
  const post = (body: unknown) => request(`${funnel.url}/v1/points`, body);

  beforeAll(async () => {
    const port = await freePort();
    funnel = new FunnelProcess({ ...env, FUNNEL_ROLE: 'all', PORT: String(port), LOG_LEVEL: 'warn' }, port).start();
    mongo = new MongoClient(env.MONGODB_URI);
    await funnel.waitReady();
  }, 90_000);

  afterAll(async () => {
    // Once the worker has written everything sent to the topic, none of the refused readings may be there.
    if (refused.length > 0 && funnel) {
      await workerCaughtUp(env);
      for (const sensorId of refused) expect(await stored(sensorId)).toBe(0);
    }
    await funnel?.stop();
    await mongo?.close();
  }, 60_000);

  describe('instants outside a JavaScript Date are refused with 400, not 500', () => {
    const series = 'sensorId=s&metric=m&window=1s';

    const outOfRange = (field: string) =>
      `${field} is out of range: an instant must lie within ±8,640,000,000,000,000 epoch ms ` +
      '(what a JavaScript Date holds: -271821-04-20T00:00:00Z to +275760-09-13T00:00:00Z)';
    it.each([
      ['epoch ms just past the range', 'from=8640000000000001&to=8640000000000002', ['from', 'to']],
      ['negative epoch ms past the range', 'from=-8640000000000002&to=-8640000000000001', ['from', 'to']],
      ['only from past the negative bound', 'from=-8640000000000001&to=0', ['from']],
      ['only to past the range', 'from=0&to=8640000000000001', ['to']],
      ['only to past the negative bound', 'from=0&to=-8640000000000001', ['to']],
    ])('aggregates: %s is out of range, naming the parameter and the range', async (_label, range, fields) => {
      const reply = await aggregates(`${series}&${range}`);
      expect(reply.status).toBe(400);
      expect(reply.json.message).toEqual(fields.map(outOfRange));
    });

    it('aggregates: an expanded ISO year past the range is not a form taken', async () => {
      const reply = await aggregates(`${series}&from=0&to=%2B275760-09-13T00:00:00.001Z`);
      expect(reply.status).toBe(400);
      expect(reply.json.message).toEqual([
        'to must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T00:00:00Z) or integer epoch milliseconds',
      ]);
    });

    it('aggregates: the last instants a Date holds are still a query', async () => {
      const reply = await aggregates(`${series}&from=8639999999999000&to=8640000000000000`);
      expect(reply.status).toBe(200);
      expect(reply.json).toMatchObject({ to: '+275760-09-13T00:00:00.000Z', buckets: [] });
    });

    it('ingest: a reading whose ts is past the range', async () => {
      refused.push('holes-far-ts');
      const reply = await post({ sensorId: 'holes-far-ts', metric: 'm', value: 1, ts: 8_640_000_000_000_001 });
      expect(reply.status).toBe(400);
      expect(reply.json.errors).toEqual([expect.objectContaining({ index: 0, field: 'ts' })]);
    });
  });

  describe('a 400 lists at most 100 errors and counts the rest', () => {
    it('10,000 bad readings', async () => {
      refused.push('holes-many-bad');
      const bad = Array.from({ length: 10_000 }, () => ({ sensorId: 'holes-many-bad', metric: 'm', value: 'x' }));
      const reply = await post(bad);
      expect(reply.status).toBe(400);
      expect(reply.json.message).toBe('10000 of 10000 readings are invalid; nothing was accepted');
      expect(reply.json.errors).toHaveLength(100);
      expect((reply.json.errors as { index: number }[]).map((e) => e.index)).toEqual([...Array(100).keys()]);
      expect(reply.json.moreErrors).toBe(9_900);
      expect(reply.text.length).toBeLessThan(20_000);
    });

    it('a multi-MiB body of unknown keys', async () => {
      refused.push('holes-unknown-keys');
      const keys = 250_000;
      const unknown = Array.from({ length: keys }, (_, i) => `"k${i}":1`).join(',');
      const body = `{"sensorId":"holes-unknown-keys","metric":"m","value":1,${unknown}}`;
      expect(body.length).toBeGreaterThan(2 * 1024 * 1024);
      const reply = await post(body);
      expect(reply.status).toBe(400);
      expect(reply.json.errors).toHaveLength(100);
      expect(reply.json.moreErrors).toBe(keys - 100);
      expect(reply.text.length).toBeLessThan(20_000);
    }, 60_000);

    it('a query string of unknown parameters', async () => {
      const unknown = Array.from({ length: 150 }, (_, i) => `x${i}=1`).join('&');
      const reply = await aggregates(`sensorId=s&metric=m&from=0&to=1&window=1s&${unknown}`);
      expect(reply.status).toBe(400);
      expect(reply.json.message).toHaveLength(100);
      expect(reply.json.moreErrors).toBe(50);
    });

    it('keeps the answer unchanged up to 100 errors', async () => {
      refused.push('holes-few-bad');
      const reply = await post([{ sensorId: 'holes-few-bad', metric: 'm', value: 'x' }]);
      expect(reply.status).toBe(400);
      expect(reply.text).toBe(
        '{"statusCode":400,"error":"Bad Request","message":"1 of 1 readings are invalid; nothing was accepted",' +
          '"errors":[{"index":0,"field":"value","reason":"must be a finite number"}]}',
      );
    });
  });

  describe('a request without a valid token is refused before its body is read', () => {
    const FIVE_MIB = 5 * 1024 * 1024; // MAX_BODY_BYTES' default: a body the api would otherwise read whole
    const json = { 'content-type': 'application/json' };

    it.each([
      ['no token', {}],
      ['an unknown token', { authorization: 'Bearer fnl_000000000000_unknowntokenunknowntokenunknowntoken000' }],
      ['a malformed Authorization header', { authorization: 'Basic dXNlcjpwYXNz' }],
    ])('%s: 401 while none of the 5 MiB body was sent', async (_label, auth: Record<string, string>) => {
      const reply = await headFirst(funnel.url, { ...json, ...auth }, FIVE_MIB);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="funnel"');
      expect(JSON.parse(reply.text)).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('with the admin token the same head waits for the body, which is read and judged (400 for bad JSON)', async () => {
      const body = Buffer.alloc(FIVE_MIB, ' ');
      body[0] = '['.charCodeAt(0);
      const reply = await headFirst(funnel.url, { ...json, ...ADMIN_AUTH }, FIVE_MIB, body);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.text)).toMatchObject({ message: expect.stringContaining('Body is not valid JSON') });
    }, 30_000);
  });

  describe('ids are unique per (sensorId, metric)', () => {
    it('refuses two readings of one request with the same id, sensor and metric, naming both indexes', async () => {
      refused.push('holes-dup');
      const reading = { id: 'dup-1', sensorId: 'holes-dup', metric: 'm' };
      const reply = await post([
        { ...reading, value: 1 },
        { ...reading, id: 'other', value: 2 },
        { ...reading, value: 3 },
      ]);
      expect(reply.status).toBe(400);
      expect(reply.json.message).toBe('1 of 3 readings are invalid; nothing was accepted');
      expect(reply.json.errors).toEqual([
        { index: 2, field: 'id', reason: 'repeats the id, sensorId and metric of reading 0' },
      ]);
    });

    test('stores both readings with one id on two metrics (ids are unique per sensorId and metric)', async () => {
      const both = [
        { id: 'shared-1', sensorId: 'holes-two-metrics', metric: 'temperature', value: 1 },
        { id: 'shared-1', sensorId: 'holes-two-metrics', metric: 'pressure', value: 2 },
      ];
      const reply = await post(both);
      expect(reply.status).toBe(202);
      expect(reply.json).toEqual({ accepted: 2 });
      await workerCaughtUp(env);
      expect(await stored('holes-two-metrics')).toBe(2);
    }, 30_000);
  });
});

describe('HOST: loopback unless set', () => {
  /** An IPv4 address of this machine other than loopback, if it has one. */
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  let funnel: FunnelProcess;

  beforeAll(async () => {
    const port = await freePort();
    // undefined drops HOST from the child's environment, so the default applies.
    const noHost = { HOST: undefined as unknown as string };
    funnel = new FunnelProcess({ ...isolatedEnv('host'), ...noHost, FUNNEL_ROLE: 'api', PORT: String(port) }, port);
    await funnel.start().waitReady();
  }, 90_000);

  afterAll(async () => {
    await funnel?.stop();
  }, 40_000);

  it("answers on 127.0.0.1 and not on the machine's other addresses", async () => {
    expect((await fetch(`${funnel.url}/health/live`)).status).toBe(200);
    if (external === undefined) return; // nothing else to reach it on
    await expect(fetch(`http://${external}:${funnel.port}/health/live`)).rejects.toThrow();
  });
});
