// The benchmark's short mode (`npm run bench -- --quick`) inside `npm test`: it must run through on this
// machine, print the table with every figure and target, and write a JSON report whose ratios are the ones
// its figures give. No speed is asserted here (a timed test on a shared machine measures the machine):
// the bench prints measured figures and says PASS/MISS itself.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

interface Report {
  quick: boolean;
  plan: { backlog: number };
  figures: Record<string, number | boolean | null>;
  targets: Array<{ target: string; measured: string; pass: boolean; outOfReach?: string }>;
  raw: { singleRounds: Array<{ http: number; nest: number; funnel: number }>; kafkaMBPerSec: number[] };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'funnel-bench-e2e-'));

describe('npm run bench -- --quick', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs through, prints every figure and target, and its JSON agrees with its own figures', async () => {
    const json = path.join(dir, 'bench.json');
    const started = Date.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', './test/faults/register.mjs', 'test/bench/run.ts', '--quick', '--json', json],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
      },
    );
    process.stdout.write(`\n${stdout}\n(quick bench: ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    expect({ code, stderrTail: code === 0 ? '' : stderr.slice(-3000) }).toEqual({ code: 0, stderrTail: '' });

    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.quick).toBe(true);
    expect(report.targets).toHaveLength(8);
    for (const t of report.targets) expect(stdout).toContain(t.target);
    expect(stdout).toMatch(/PASS|MISS/);
    // Every figure measured: numbers finite and not negative (null only for what a run may not know).
    const bad = Object.entries(report.figures).filter(
      ([, v]) => v !== null && typeof v !== 'boolean' && !(Number.isFinite(v) && v >= 0),
    );
    expect(bad).toEqual([]);
    const f = report.figures as Record<string, number>;
    for (const name of [
      'lHttpReqPerSec',
      'lNestReqPerSec',
      'lMongoDocsPerSec',
      'singleReqPerSec',
      'workerFlushDocsPerSec',
    ])
      expect({ name, positive: f[name]! > 0 }).toEqual({ name, positive: true });
    expect(f.aggregationReadings).toBe(report.plan.backlog);

    // The ratios, recomputed here from the raw rounds and figures.
    const [round] = report.raw.singleRounds;
    expect(report.raw.singleRounds).toHaveLength(1);
    expect(f.singleRatioOfRounds).toBeCloseTo(round!.funnel / round!.http, 6);
    expect(f.singleReqPerSec).toBeCloseTo(round!.funnel, 6);
    const singleTarget = report.targets.find((t) => t.target.startsWith('single-reading POST'))!;
    expect(singleTarget.pass).toBe(round!.funnel / round!.http >= 0.6);
    const readingsPerSec = ((f.lKafkaMBPerSec! * 1024 * 1024) / f.lKafkaRecordBytes!) * 500;
    expect(f.lKafkaReadingsPerSec).toBeCloseTo(readingsPerSec, 3);
    const flush = report.targets.find((t) => t.target.startsWith('worker flush'))!;
    expect(flush.pass).toBe(f.workerFlushDocsPerSec! / f.lMongoDocsPerSec! >= 0.85);
    const memory = report.targets.find((t) => t.target.startsWith('worker peak RSS'))!;
    expect(memory.pass).toBe(f.workerPeakRssMb! < 300);
  }, 420_000);
});
