// A schema-driven fuzzer (schemathesis, from PyPI) against the live api's /docs-json, for every route it documents:
// every answer must be one the OpenAPI document declares (status, content type, body schema), never a 500.
// Installed on first use into node_modules/.cache with pip, the ordinary client of PyPI.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { isolatedEnv, TEST_ADMIN_TOKEN } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';

const VERSION = '4.32.5';
const VENV = path.resolve('node_modules/.cache/schemathesis');
const ST = path.join(VENV, 'bin', 'st');

function ensureSchemathesis(): void {
  const installed = spawnSync(ST, ['--version'], { encoding: 'utf8' });
  if (installed.status === 0 && installed.stdout.includes(VERSION)) return;
  if (!existsSync(VENV)) {
    const venv = spawnSync('python3', ['-m', 'venv', VENV], { encoding: 'utf8' });
    if (venv.status !== 0) throw new Error(`python3 -m venv failed: ${venv.stderr}`);
  }
  const pip = spawnSync(path.join(VENV, 'bin', 'pip'), ['install', '-q', `schemathesis==${VERSION}`], {
    encoding: 'utf8',
  });
  if (pip.status !== 0) throw new Error(`pip install schemathesis==${VERSION} failed: ${pip.stderr}`);
}

describe('OpenAPI fuzzing of every documented route (schemathesis)', () => {
  const env = isolatedEnv('fuzz');
  let api: FunnelProcess;

  beforeAll(async () => {
    ensureSchemathesis();
    api = (await FunnelProcess.onFreePort('all', env)).start();
    await api.waitReady();
  }, 240_000);

  afterAll(async () => {
    await api?.stop();
  }, 40_000);

  // The fuzzer's first find on the token route: null passed @IsOptional and crashed the request check (500).
  it.each(['sensorPrefix', 'expires', 'description'])(
    'answers POST /v1/tokens with %s null 400, naming it',
    async (field) => {
      const res = await fetch(`${api.url}/v1/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: JSON.stringify({ scope: 'read', [field]: null }),
      });
      const body = (await res.json()) as { message: string[] };
      expect({ status: res.status, named: body.message.some((m) => m.startsWith(`${field} `)) }).toEqual({
        status: 400,
        named: true,
      });
    },
  );

  it('finds no answer the document does not declare', () => {
    const run = spawnSync(
      ST,
      [
        '--config-file',
        path.resolve('test/openapi-fuzz.schemathesis.toml'),
        'run',
        `${api.url}/docs-json`,
        '--header',
        `Authorization: Bearer ${TEST_ADMIN_TOKEN}`,
        '--max-examples',
        '40',
        '--generation-deterministic',
        // Refusing a request the schema allows is correct where the rule is not expressible in OpenAPI
        // (from < to, a real IANA zone, a bucket count under MAX_POINTS_PER_QUERY, a reading's timestamp inside
        // the retention, a dead letter that exists): those 400s and 404s are documented.
        // Methods a path does not have answer 404, not 405, app-wide: Nest's router has no per-path method list
        // to answer 405 with an Allow header from, and 404 discloses no more than the document does.
        '--exclude-checks',
        'positive_data_acceptance,unsupported_method',
        '--no-color',
      ],
      // Its example cache goes beside it, not into the work tree.
      {
        encoding: 'utf8',
        timeout: 150_000,
        cwd: VENV,
        env: { ...process.env, SCHEMATHESIS_HOOKS: path.resolve('test/openapi-fuzz.hooks.py') },
      },
    );
    writeFileSync(path.join(VENV, 'last-run.txt'), `${run.stdout}\n${run.stderr}`);
    expect({ status: run.status, output: run.status === 0 ? '' : `${run.stdout}\n${run.stderr}`.slice(-6000) }).toEqual(
      {
        status: 0,
        output: '',
      },
    );
  }, 180_000);
});
