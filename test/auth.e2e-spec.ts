// Tokens against the real api: every route x every kind of credential -> the documented status, nothing stored on
// a refusal, revocation seen by a second api process, the CLI, logs without secrets, and the open probes.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { ADMIN_AUTH, isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { postJson } from './support/http.js';
import { workerCaughtUp } from './support/kafka.js';
import { storedCount } from './support/mongo.js';

const MAIN = path.resolve('dist/apps/funnel/src/main.js');
const PREFIX = 'site-a.';
const RANGE = 'metric=m&from=2026-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&window=day';
const TS = '2026-06-01T00:00:00Z';
/** One line of InfluxDB line protocol naming `sensor` (INFLUX_SENSOR_TAGS starts with `sensor`), in nanoseconds. */
const lineOf = (sensor: string) => `m,sensor=${sensor} value=1 ${Date.parse(TS)}000000\n`;

/** One request of the matrix, sent fresh each time (readings get the case's own sensor id). */
interface Route {
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path for a caller; `sensor` is the sensor the request names (inside or outside a prefix). */
  path: (sensor: string) => string;
  body?: (sensor: string) => unknown;
  /** Sent as this media type, the body as it is (a string); JSON otherwise. */
  contentType?: string;
  /** What an allowed caller gets: the request is valid, so anything else is the guard's doing. */
  allowed: number;
  /** The scope it needs, and whether a prefix-limited token may use it. */
  scope: 'read' | 'write' | 'admin';
  sensors: boolean;
}

const ROUTES: Route[] = [
  {
    name: 'POST /v1/points',
    method: 'POST',
    path: () => '/v1/points',
    body: (sensor) => [{ sensorId: sensor, metric: 'm', value: 1, ts: TS }],
    allowed: 202,
    scope: 'write',
    sensors: true,
  },
  // The other ingest formats: the guard cannot read their bodies, the route checks each parsed reading's sensor.
  {
    name: 'POST /api/v2/write',
    method: 'POST',
    path: () => '/api/v2/write?org=o&bucket=b',
    body: lineOf,
    contentType: 'text/plain; charset=utf-8',
    allowed: 204,
    scope: 'write',
    sensors: true,
  },
  {
    name: 'POST /write',
    method: 'POST',
    path: () => '/write?db=d',
    body: lineOf,
    contentType: 'text/plain; charset=utf-8',
    allowed: 204,
    scope: 'write',
    sensors: true,
  },
  {
    name: 'POST /v1/otlp/metrics',
    method: 'POST',
    path: () => '/v1/otlp/metrics',
    body: (sensor) =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [{ key: 'sensor.id', value: { stringValue: sensor } }] },
            scopeMetrics: [
              {
                metrics: [
                  { name: 'm', gauge: { dataPoints: [{ timeUnixNano: `${Date.parse(TS)}000000`, asDouble: 1 }] } },
                ],
              },
            ],
          },
        ],
      }),
    contentType: 'application/json',
    allowed: 200,
    scope: 'write',
    sensors: true,
  },
  {
    name: 'POST /v1/import',
    method: 'POST',
    path: () => '/v1/import',
    body: (sensor) => `${JSON.stringify({ sensorId: sensor, metric: 'm', value: 1, ts: TS })}\n`,
    contentType: 'application/x-ndjson',
    allowed: 200,
    scope: 'write',
    sensors: true,
  },
  {
    name: 'GET /v1/aggregates',
    method: 'GET',
    path: (sensor) => `/v1/aggregates?sensorId=${sensor}&${RANGE}`,
    allowed: 200,
    scope: 'read',
    sensors: true,
  },
  { name: 'GET /v1/dlq', method: 'GET', path: () => '/v1/dlq', allowed: 200, scope: 'admin', sensors: false },
  {
    name: 'POST /v1/dlq/replay',
    method: 'POST',
    path: () => '/v1/dlq/replay',
    body: () => ({ ids: ['no-such-letter:0:0'] }),
    allowed: 404,
    scope: 'admin',
    sensors: false,
  },
  {
    name: 'POST /v1/tokens',
    method: 'POST',
    path: () => '/v1/tokens',
    body: () => ({ scope: 'read', description: 'made by the matrix' }),
    allowed: 201,
    scope: 'admin',
    sensors: false,
  },
  { name: 'GET /v1/tokens', method: 'GET', path: () => '/v1/tokens', allowed: 200, scope: 'admin', sensors: false },
  {
    name: 'DELETE /v1/tokens/:id',
    method: 'DELETE',
    path: () => '/v1/tokens/fnl_000000000000',
    allowed: 404,
    scope: 'admin',
    sensors: false,
  },
];

/** A kind of credential: the Authorization header it sends, and the scope and prefix it holds if it is usable. */
interface Caller {
  name: string;
  header?: string;
  scope?: 'read' | 'write' | 'admin';
  prefix?: boolean;
  /** The sensor its requests name: inside its prefix or outside. */
  outside?: boolean;
}

/** The status the documented rules give `caller` on `route` (an independent reading of docs/security.md). */
function expectedStatus(route: Route, caller: Caller): number {
  if (caller.scope === undefined) return 401;
  const scopeOk = caller.scope === 'admin' || caller.scope === route.scope;
  if (!scopeOk) return 403;
  if (caller.prefix && (!route.sensors || caller.outside)) return 403;
  return route.allowed;
}

async function call(
  base: string,
  route: Route,
  sensor: string,
  header?: string,
): Promise<{ status: number; text: string }> {
  const body = route.body?.(sensor);
  const res = await fetch(`${base}${route.path(sensor)}`, {
    method: route.method,
    headers: {
      ...(header === undefined ? {} : { authorization: header }),
      ...(body === undefined ? {} : { 'content-type': route.contentType ?? 'application/json' }),
    },
    body: body === undefined ? undefined : route.contentType ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

interface Created {
  id: string;
  token: string;
}

describe('tokens, scopes and sensor prefixes (AUTH=on)', () => {
  const env: Record<string, string> = { ...isolatedEnv('auth'), AUTH_CACHE_TTL_MS: '1000' };
  let all: FunnelProcess;
  let second: FunnelProcess;
  const secrets: string[] = [TEST_ADMIN_TOKEN];

  const create = async (base: string, body: Record<string, unknown>): Promise<Created> => {
    const res = await postJson<Created>(`${base}/v1/tokens`, body);
    expect(res.status).toBe(201);
    secrets.push(res.json.token);
    return res.json;
  };

  beforeAll(async () => {
    all = (await FunnelProcess.onFreePort('all', env)).start();
    second = (await FunnelProcess.onFreePort('api', { ...env, METRICS_AUTH: 'on' })).start();
    await Promise.all([all.waitReady(), second.waitReady()]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([all?.stop(), second?.stop()]);
  }, 40_000);

  it('answers every route x credential with the documented status, and stores nothing it refused', async () => {
    const read = await create(all.url, { scope: 'read' });
    const write = await create(all.url, { scope: 'write' });
    const prefixWrite = await create(all.url, { scope: 'write', sensorPrefix: PREFIX });
    const prefixRead = await create(all.url, { scope: 'read', sensorPrefix: PREFIX });
    const prefixAdmin = await create(all.url, { scope: 'admin', sensorPrefix: PREFIX });
    const revoked = await create(all.url, { scope: 'admin' });
    const expired = await create(all.url, { scope: 'admin', expires: '1s' });
    const del = await fetch(`${all.url}/v1/tokens/${revoked.id}`, { method: 'DELETE', headers: ADMIN_AUTH });
    expect(del.status).toBe(204);
    await pollUntil(
      'the 1 s token to expire',
      async () => (await call(all.url, ROUTES[2]!, '', `Bearer ${expired.token}`)).status === 401,
    );

    const callers: Caller[] = [
      { name: 'no token' },
      { name: 'malformed header', header: 'Basic dXNlcjpwYXNz' },
      { name: 'empty bearer', header: 'Bearer ' },
      { name: 'unknown token', header: `Bearer fnl_0123456789ab_${'x'.repeat(43)}` },
      { name: 'wrong secret of a known id', header: `Bearer ${read.token.slice(0, 17)}${'y'.repeat(43)}` },
      { name: 'expired', header: `Bearer ${expired.token}` },
      { name: 'revoked', header: `Bearer ${revoked.token}` },
      { name: 'read', header: `Bearer ${read.token}`, scope: 'read' },
      { name: 'write', header: `Bearer ${write.token}`, scope: 'write' },
      { name: 'write (Token scheme)', header: `Token ${write.token}`, scope: 'write' },
      { name: 'admin', header: `Bearer ${TEST_ADMIN_TOKEN}`, scope: 'admin' },
      { name: 'prefix write, inside', header: `Bearer ${prefixWrite.token}`, scope: 'write', prefix: true },
      {
        name: 'prefix write, outside',
        header: `Bearer ${prefixWrite.token}`,
        scope: 'write',
        prefix: true,
        outside: true,
      },
      { name: 'prefix read, inside', header: `Bearer ${prefixRead.token}`, scope: 'read', prefix: true },
      {
        name: 'prefix read, outside',
        header: `Bearer ${prefixRead.token}`,
        scope: 'read',
        prefix: true,
        outside: true,
      },
      { name: 'prefix admin, inside', header: `Bearer ${prefixAdmin.token}`, scope: 'admin', prefix: true },
    ];
    const got: string[] = [];
    const want: string[] = [];
    const acceptedSensors: string[] = [];
    const refusedSensors: string[] = [];
    for (const [c, caller] of callers.entries()) {
      for (const [r, route] of ROUTES.entries()) {
        // Each write gets a sensor of its own (one reading each), so what was stored can be told apart.
        const sensor = `${caller.outside ? 'elsewhere.' : PREFIX}c${c}${route.scope === 'write' ? `.r${r}` : ''}`;
        const answer = await call(all.url, route, sensor, caller.header);
        const expected = expectedStatus(route, caller);
        got.push(`${caller.name} | ${route.name} -> ${answer.status}`);
        want.push(`${caller.name} | ${route.name} -> ${expected}`);
        if (route.scope === 'write') (expected === route.allowed ? acceptedSensors : refusedSensors).push(sensor);
        // A refusal says why without naming or probing any sensor's data.
        if (expected === 401 || expected === 403) expect(answer.text).not.toContain('"buckets"');
      }
    }
    expect(got).toEqual(want);

    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: refusedSensors } })).toBe(0);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: acceptedSensors } })).toBe(
      acceptedSensors.length,
    );
  }, 120_000);

  it('a prefix-limited writer sending one reading outside its prefix gets 403 and none of the batch is stored', async () => {
    const gateway = await create(all.url, { scope: 'write', sensorPrefix: PREFIX });
    const batch = [
      { sensorId: `${PREFIX}mixed`, metric: 'm', value: 1 },
      { sensorId: 'other-site.mixed', metric: 'm', value: 2 },
    ];
    const res = await postJson(`${all.url}/v1/points`, batch, { authorization: `Bearer ${gateway.token}` });
    expect({ status: res.status, message: res.json.message }).toEqual({
      status: 403,
      message: `reading 1 names a sensor outside this token's prefix "${PREFIX}"; nothing was accepted`,
    });
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': { $in: batch.map((r) => r.sensorId) } })).toBe(0);
  }, 60_000);

  it('a token made by the CLI works; list shows its id, not its secret; a CLI revocation reaches the other api', async () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [MAIN, 'tokens', ...args], {
        env: { PATH: process.env.PATH, MONGODB_URI: env.MONGODB_URI },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const made = cli(
      'create',
      '--scope',
      'read',
      '--sensor-prefix',
      PREFIX,
      '--expires',
      '90d',
      '--description',
      'cli',
    );
    expect({ status: made.status, stderr: made.stderr }).toEqual({ status: 0, stderr: '' });
    const token = made.stdout.trimEnd().split('\n').pop()!;
    secrets.push(token);
    const id = token.slice(0, 16);
    expect(token).toMatch(/^fnl_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);

    const query = (base: string) =>
      fetch(`${base}/v1/aggregates?sensorId=${PREFIX}cli&${RANGE}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await query(all.url)).status).toBe(200);
    expect((await query(second.url)).status).toBe(200);

    const listed = cli('list');
    expect(listed.status).toBe(0);
    const line = listed.stdout.split('\n').find((l) => l.startsWith(id));
    expect(line).toContain(`sensors ${PREFIX}*`);
    expect(listed.stdout).not.toContain(token);

    expect(cli('revoke', id).status).toBe(0);
    // Each process asks MongoDB again after AUTH_CACHE_TTL_MS (1 s here): the revocation is seen without a restart.
    await pollUntil(
      'the second api to refuse the revoked token',
      async () => (await query(second.url)).status === 401,
      {
        timeoutMs: 15_000,
      },
    );
    expect((await query(all.url)).status).toBe(401);
    expect(cli('revoke', 'fnl_000000000000').status).toBe(1);
  }, 90_000);

  it('probes stay open and say only up/down; an admin token sees the details; metrics follow METRICS_AUTH', async () => {
    const anonymous = (await (await fetch(`${all.url}/health/ready`)).json()) as { info: Record<string, object> };
    for (const [name, check] of Object.entries(anonymous.info))
      expect({ name, check }).toEqual({ name, check: { status: 'up' } });
    expect(Object.keys(anonymous.info).sort()).toEqual(['auth', 'kafkaConsumer', 'kafkaProducer', 'mongodb']);
    const admin = (await (await fetch(`${all.url}/health/ready`, { headers: ADMIN_AUTH })).json()) as {
      info: Record<string, Record<string, unknown>>;
    };
    expect(admin.info.mongodb).toHaveProperty('version');
    expect((await fetch(`${all.url}/health/live`)).status).toBe(200);

    expect((await fetch(`${all.url}/metrics`)).status).toBe(200);
    expect((await fetch(`${second.url}/metrics`)).status).toBe(401);
    const reader = await create(all.url, { scope: 'read' });
    expect(
      (await fetch(`${second.url}/metrics`, { headers: { authorization: `Bearer ${reader.token}` } })).status,
    ).toBe(200);
  }, 30_000);

  it('documents the bearer scheme, 401 and 403 on every protected route', async () => {
    const doc = (await (await fetch(`${all.url}/docs-json`)).json()) as {
      components: { securitySchemes: Record<string, { scheme?: string }> };
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(doc.components.securitySchemes.token).toMatchObject({ scheme: 'bearer' });
    const protectedOps = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/v1/'))
      .flatMap(([p, ops]) => Object.entries(ops).map(([method, op]) => ({ op: `${method} ${p}`, ...op })));
    expect(protectedOps.length).toBeGreaterThanOrEqual(ROUTES.length);
    for (const op of protectedOps) {
      expect({ op: op.op, security: op.security, has: ['401', '403'].map((s) => s in op.responses) }).toEqual({
        op: op.op,
        security: [{ token: [] }],
        has: [true, true],
      });
    }
  }, 30_000);

  it('never writes a token into a log line; the token id (its public prefix) is what the logs name', async () => {
    const logs = all.output() + second.output();
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
    expect(logs).toMatch(/"token":"fnl_[0-9a-f]{12}"/);
  });

  it('refuses (422) an Idempotency-Key reused with another body and stores none of it; the same body is a retry', async () => {
    const key = { 'idempotency-key': `auth-spec-${Date.now()}` };
    const first = [
      { sensorId: 'idem-a', metric: 'm', value: 1 },
      { sensorId: 'idem-a', metric: 'm', value: 2 },
    ];
    const other = [{ sensorId: 'idem-b', metric: 'm', value: 3 }];
    expect((await postJson(`${all.url}/v1/points`, first, key)).status).toBe(202);
    expect((await postJson(`${all.url}/v1/points`, first, key)).status).toBe(202);
    const reused = await postJson(`${all.url}/v1/points`, other, key);
    expect({ status: reused.status, message: reused.json.message }).toEqual({
      status: 422,
      message:
        'this Idempotency-Key was used for a different body; use a new key for new readings (nothing was accepted)',
    });
    await workerCaughtUp(env);
    // The retry stored nothing twice, the other body nothing at all.
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'idem-a' })).toBe(first.length);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'idem-b' })).toBe(0);
  }, 60_000);
});

describe('rate limits (RATE_LIMIT_PER_SECOND, RATE_LIMIT_BURST)', () => {
  it('gives each token its own window (429 + Retry-After past the burst; others and probes unaffected), and slows token guessing', async () => {
    // 20 requests per 20 s: the 21 requests below take far less than the window, even on a busy machine.
    const env = { ...isolatedEnv('auth-rate'), RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '20' };
    const api = (await FunnelProcess.onFreePort('api', env)).start();
    try {
      await api.waitReady();
      const reader = (await postJson<Created>(`${api.url}/v1/tokens`, { scope: 'read' })).json.token;
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await fetch(`${api.url}/v1/tokens`, { headers: ADMIN_AUTH })).status);
      // The token-creating POST above was the admin token's first request of the window.
      expect(statuses.filter((s) => s === 200)).toHaveLength(19);
      expect(statuses.slice(-1)).toEqual([429]);
      const limited = await fetch(`${api.url}/v1/tokens`, { headers: ADMIN_AUTH });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      const query = `${api.url}/v1/aggregates?sensorId=s&${RANGE}`;
      expect((await fetch(query, { headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
      expect((await fetch(`${api.url}/health/ready`)).status).toBe(200);
      const doc = (await (await fetch(`${api.url}/docs-json`)).json()) as {
        paths: Record<string, { get: { responses: Record<string, { headers?: object }> } }>;
      };
      expect(doc.paths['/v1/aggregates']!.get.responses['429']).toHaveProperty('headers.Retry-After');

      // Token guessing: this process has seen no failed authentication yet; the 101st within a minute is a 429.
      const guesses: number[] = [];
      for (let i = 0; i < 101; i++) {
        const res = await fetch(`${api.url}/v1/dlq`, {
          headers: { authorization: `Bearer guess-${i}-${'z'.repeat(20)}` },
        });
        guesses.push(res.status);
        await res.text();
      }
      expect(guesses.filter((s) => s === 401)).toHaveLength(100);
      expect(guesses.slice(-1)).toEqual([429]);
      const blocked = await fetch(`${api.url}/v1/aggregates?sensorId=s&${RANGE}`, {
        headers: { authorization: `Bearer ${reader}` },
      });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await api.stop();
    }
  }, 60_000);
});

describe('AUTH=off', () => {
  it('serves every route without a token and warns at start that it is open', async () => {
    const env = { ...isolatedEnv('auth-off'), AUTH: 'off' };
    const api = (await FunnelProcess.onFreePort('api', env)).start();
    try {
      await api.waitReady();
      const res = await fetch(`${api.url}/v1/points`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sensorId: 'open', metric: 'm', value: 1 }),
      });
      expect(res.status).toBe(202);
      expect(api.output()).toContain('AUTH=off: every route is open');
    } finally {
      await api.stop();
    }
  }, 60_000);
});
