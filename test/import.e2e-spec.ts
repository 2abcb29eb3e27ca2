// NDJSON bulk import end to end: the CLI (`main.js import FILE`) sends a file in chunks to POST /v1/import; valid
// lines are stored, refused ones listed by line number, aggregates equal an independent calculation; an import
// SIGKILLed midway and run again resumes without storing any reading twice.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { expectedBuckets, makeReadings } from './support/dataset.js';
import { isolatedEnv, ADMIN_AUTH, TEST_ADMIN_TOKEN } from './support/env.js';
import { processForSuite } from './support/funnel-process.js';
import { getJson, type AggregatesAnswer } from './support/http.js';
import { workerCaughtUp } from './support/kafka.js';
import { storedCount } from './support/mongo.js';

const MAIN = path.resolve('dist/apps/funnel/src/main.js');
const HOUR = 3_600_000;
const END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const START = END - HOUR;

interface CliRun {
  code: number | null;
  stderr: string;
}

/** Runs the import CLI; `onStart` gets the child (to kill it). */
function runCli(args: string[], onStart?: (child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'import', '--token', TEST_ADMIN_TOKEN, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
    onStart?.(child);
  });
}

describe('NDJSON import through the CLI (role all)', () => {
  const env = isolatedEnv('import');
  const suite = processForSuite('all', env);
  const dir = mkdtempSync(path.join(tmpdir(), 'funnel-import-'));

  it('stores the valid lines, lists the refused ones by line number; aggregates match', async () => {
    const readings = makeReadings({
      seed: 3,
      sensors: ['imp-1', 'imp-2'],
      metrics: ['t'],
      start: START,
      spanMs: HOUR,
      perSeries: 3000,
    });
    const lines = readings.map((r) => JSON.stringify(r));
    // Bad lines at known places (1-based): not JSON, a string value, an unknown field; a blank line is skipped.
    lines.splice(99, 0, '{"sensorId":"imp-1",');
    lines.splice(4999, 0, JSON.stringify({ sensorId: 'imp-1', metric: 't', value: 'x' }));
    lines.splice(5999, 0, JSON.stringify({ sensorId: 'imp-1', metric: 't', value: 1, colour: 'red' }));
    lines.splice(10, 0, '');
    const file = path.join(dir, 'readings.ndjson');
    writeFileSync(file, lines.join('\n') + '\n');
    const run = await runCli([
      file,
      '--url',
      suite().url,
      '--state',
      path.join(dir, 'state-1.json'),
      '--chunk-lines',
      '2000',
    ]);
    expect(run.stderr).toMatch(`imported ${readings.length} readings, refused 3 lines`);
    expect(run.stderr).toMatch(/line 101: not a JSON reading/);
    expect(run.stderr).toMatch(/line 5001: value /);
    expect(run.stderr).toMatch(/line 6001: colour is not a known field/);
    expect(run.code).toBe(1);

    await pollUntil('imported readings stored', async () => (await storedCount(env.MONGODB_URI)) >= readings.length, {
      timeoutMs: 60_000,
    });
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI)).toBe(readings.length);
    for (const sensorId of ['imp-1', 'imp-2']) {
      const qs = new URLSearchParams({ sensorId, metric: 't', from: String(START), to: String(END), window: '10m' });
      const res = await getJson<AggregatesAnswer>(`${suite().url}/v1/aggregates?${qs}`);
      const want = expectedBuckets(readings, { sensorId, metric: 't', from: START, to: END, binMs: 600_000 });
      expect(res.json.buckets.map((b) => [b.start, b.count, b.min, b.max])).toEqual(
        want.map((b) => [b.start, b.count, b.min, b.max]),
      );
      res.json.buckets.forEach((b, i) => expect(b.sum).toBeCloseTo(want[i]!.sum, 6));
    }
  }, 120_000);

  it('resumes an import killed midway, storing each reading exactly once', async () => {
    const readings = makeReadings({
      seed: 4,
      sensors: ['resume-1'],
      metrics: ['t'],
      start: START,
      spanMs: HOUR,
      perSeries: 8_000,
    });
    const file = path.join(dir, 'resume.ndjson');
    writeFileSync(file, readings.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const state = path.join(dir, 'state-2.json');
    const args = [file, '--url', suite().url, '--state', state, '--chunk-lines', '500'];
    const killed = await runCli(args, (child) => {
      void pollUntil(
        'a few chunks acknowledged',
        async () => existsSync(state) && (JSON.parse(readFileSync(state, 'utf8')) as { lines: number }).lines >= 2000,
        {
          timeoutMs: 60_000,
          intervalMs: 5,
        },
      ).then(() => child.kill('SIGKILL'));
    });
    expect(killed.code).toBeNull(); // killed, not finished
    const done = (JSON.parse(readFileSync(state, 'utf8')) as { lines: number }).lines;
    expect(done).toBeLessThan(readings.length);

    const resumed = await runCli(args);
    expect(resumed.stderr).toMatch(new RegExp(`resumed after line ${done}`));
    expect(resumed.code).toBe(0);
    await pollUntil(
      'resumed import stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'resume-1' })) >= readings.length,
      { timeoutMs: 60_000 },
    );
    await workerCaughtUp(env);
    // A rerun from the start (state removed) sends every chunk again under the same keys: still stored once.
    writeFileSync(state, '{}');
    expect((await runCli(args)).code).toBe(0);
    await workerCaughtUp(env);
    expect(await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'resume-1' })).toBe(readings.length);
  }, 120_000);

  it('answers /v1/import with counts and refused line numbers; refuses an empty body and JSON', async () => {
    const url = `${suite().url}/v1/import`;
    const post = (body: string, type = 'application/x-ndjson') =>
      fetch(url, { method: 'POST', headers: { ...ADMIN_AUTH, 'content-type': type }, body });
    const ts = START + 1000;
    const body = [
      JSON.stringify({ sensorId: 'direct', metric: 't', value: 1, ts }),
      'not json',
      JSON.stringify({ sensorId: 'direct', metric: 't', value: 2, ts: ts + 1 }),
      JSON.stringify({ sensorId: 'bad id!', metric: 't', value: 2 }),
      'x'.repeat(70 * 1024),
    ].join('\r\n');
    const res = await post(body);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as {
      accepted: number;
      refused: number;
      errors: { line: number; reason: string }[];
    };
    expect(answer.accepted).toBe(2);
    expect(answer.refused).toBe(3);
    expect(answer.errors.map((e) => e.line)).toEqual([2, 4, 5]);
    expect(answer.errors[1]!.reason).toMatch(/sensorId/);
    expect(answer.errors[2]!.reason).toMatch(/longer than/);
    expect((await post('\n\n')).status).toBe(400);
    expect((await post('{}', 'application/json')).status).toBe(415);
    await pollUntil(
      'direct readings stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'direct' })) >= 2,
    );
  }, 60_000);
});
