// HTTPS for both roles with TLS_CERT_FILE / TLS_KEY_FILE, from self-signed certificates made by openssl here,
// and the certificate reloaded on SIGHUP.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { ADMIN_AUTH, isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'funnel-tls-'));

/** A self-signed certificate for 127.0.0.1 (key and certificate files) made by openssl. */
function selfSigned(name: string): { cert: string; key: string } {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=funnel-${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** An HTTPS request that trusts only `ca`; the status and body. */
function https(
  port: number,
  ca: string,
  pathName: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: pathName,
        method: init.method ?? 'GET',
        headers: init.headers,
        ca: readFileSync(ca),
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** SHA-256 fingerprint of the certificate the server presents to a new connection. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

describe('HTTPS (TLS_CERT_FILE, TLS_KEY_FILE)', () => {
  const first = selfSigned('first');
  const second = selfSigned('second');
  // The files the processes read: the first pair now, the second after a renewal.
  const live = { cert: path.join(dir, 'live.crt'), key: path.join(dir, 'live.key') };
  copyFileSync(first.cert, live.cert);
  copyFileSync(first.key, live.key);
  const env = { ...isolatedEnv('tls'), TLS_CERT_FILE: live.cert, TLS_KEY_FILE: live.key };
  let api: FunnelProcess;
  let worker: FunnelProcess;

  beforeAll(async () => {
    api = (await FunnelProcess.onFreePort('api', env)).start();
    worker = (await FunnelProcess.onFreePort('worker', env)).start();
    for (const p of [api, worker]) {
      await pollUntil(
        `${p.env.FUNNEL_ROLE} ready over HTTPS`,
        async () => (await https(p.port, first.cert, '/health/ready').catch(() => ({ status: 0 }))).status === 200,
        { timeoutMs: 60_000, intervalMs: 250, abortIf: () => !p.running && p.output() },
      );
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }, 40_000);

  it('serves both roles over HTTPS only, with the configured certificate', async () => {
    expect(await servedFingerprint(api.port)).toBe(fingerprintOf(first.cert));
    expect(await servedFingerprint(worker.port)).toBe(fingerprintOf(first.cert));
    const reading = JSON.stringify({ sensorId: 'tls', metric: 'm', value: 1 });
    const posted = await https(api.port, first.cert, '/v1/points', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...ADMIN_AUTH },
      body: reading,
    });
    expect(posted).toEqual({ status: 202, body: '{"accepted":1}' });
    expect((await https(worker.port, first.cert, '/health/live')).status).toBe(200);
    // Plain HTTP on the same port gets no answer.
    const plain = await fetch(`http://127.0.0.1:${api.port}/health/live`).then(
      (res) => res.status,
      () => 'no HTTP answer',
    );
    expect(plain).not.toBe(200);
  }, 30_000);

  it('serves a renewed certificate to new connections after SIGHUP, without a restart', async () => {
    copyFileSync(second.cert, live.cert);
    copyFileSync(second.key, live.key);
    api.kill('SIGHUP');
    await pollUntil(
      'the api to present the second certificate',
      async () => (await servedFingerprint(api.port)) === fingerprintOf(second.cert),
    );
    expect((await https(api.port, second.cert, '/health/live')).status).toBe(200);
    expect(api.running).toBe(true);
    expect(api.output()).toContain('SIGHUP: reloaded TLS_CERT_FILE and TLS_KEY_FILE');
  }, 30_000);
});
