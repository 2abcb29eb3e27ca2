// The benchmark's smoke mode (`npm run bench -- --smoke`: every stage at toy sizes) inside `npm test`, so the
// bench cannot rot: it must run through, print the table with every figure and target, and write a JSON
// report whose ratios are the ones its figures give. No speed is asserted (a timed test on a shared machine
// measures the machine); the measured figures come from `npm run bench` and `-- --quick`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from '@jest/globals';

import { runProcess } from '@funnel/dev-infra';

interface Report {
  quick: boolean;
  smoke: boolean;
  plan: { backlog: number };
  figures: Record<string, number | boolean | null>;
  targets: Array<{ target: string; measured: string; pass: boolean; outOfReach?: string }>;
  raw: { singleRounds: Array<{ http: number; nest: number; funnel: number }>; kafkaMBPerSec: number[] };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'funnel-bench-e2e-'));

describe('npm run bench -- --smoke', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs through, prints every figure and target, and its JSON agrees with its own figures', async () => {
    const json = path.join(dir, 'bench.json');
    const started = Date.now();
    // Progress lines and the table in one stream: the table's lines are all that is looked for.
    const { code, out } = await runProcess(process.execPath, {
      args: ['--import', './test/faults/register.mjs', 'test/bench/run.ts', '--smoke', '--json', json],
    });
    process.stdout.write(`\n${out}\n(smoke bench: ${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    expect({ code, outputTail: code === 0 ? '' : out.slice(-3000) }).toEqual({ code: 0, outputTail: '' });

    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    expect(report.smoke).toBe(true);
    // Eight pipeline targets, four of the rollup tiers (test/bench/tiers.ts), three of the queries (queries.ts),
    // three of the ingest formats (formats.ts).
    expect(report.targets).toHaveLength(18);
    for (const t of report.targets) expect(out).toContain(t.target);
    expect(out).toMatch(/PASS|MISS/);
    // Every figure measured: numbers finite and not negative (null only for what a run may not know).
    // Nested groups (the rollup tiers' figures) are checked leaf by leaf.
    const leaves = (entries: Array<[string, unknown]>): Array<[string, unknown]> =>
      entries.flatMap(([k, v]) =>
        v !== null && typeof v === 'object'
          ? leaves(Object.entries(v as Record<string, unknown>).map(([k2, v2]) => [`${k}.${k2}`, v2]))
          : [[k, v]],
      );
    const bad = leaves(Object.entries(report.figures)).filter(
      ([, v]) => v !== null && typeof v !== 'boolean' && !(Number.isFinite(v) && (v as number) >= 0),
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
    // The queries stage: its dashboards made every query of their plan (20 × 4 kinds × 1 round in smoke).
    const queries = report.figures.queries as unknown as Record<string, number>;
    expect(queries.dashboardQueries).toBe(queries.dashboards! * 4);
    const dashboards = report.targets.find((t) => t.target.includes('concurrent dashboard queries'))!;
    expect(dashboards.pass).toBe(queries.dashboardRefused === 0);
    // The formats stage: every format measured (the stage itself checked stored = acknowledged), and its
    // targets are the ones its figures give.
    const formats = report.figures.formats as unknown as Record<string, Record<string, number>>;
    expect(Object.keys(formats).sort()).toEqual([
      'influxClient',
      'json',
      'jsonGzip',
      'jsonGzipPaced',
      'jsonPaced',
      'lp',
      'lpGzip',
      'lpGzipPaced',
      'lpPaced',
    ]);
    for (const [name, x] of Object.entries(formats)) {
      expect({ name, positive: x.readings! > 0 && x.storedPerSec! > 0 }).toEqual({ name, positive: true });
      expect(x.cpuMicrosPerReading).toBeCloseTo(x.apiCpuMicrosPerReading! + x.workerCpuMicrosPerReading!, 6);
      // Every reading the worker wrote in the measured run went out in one of its counted flushes.
      expect({ name, written: Math.round(x.flushes! * x.readingsPerFlush!) }).toEqual({ name, written: x.readings });
    }
    const lpRate = report.targets.find((t) => t.target.startsWith('formats: line protocol'))!;
    expect(lpRate.pass).toBe(formats.lp!.storedPerSec! / formats.json!.storedPerSec! >= 0.8);
    // The gzip target compares the closed-loop runs (full batches for plain and gzip'd bodies alike).
    const gzip = report.targets.find((t) => t.target.startsWith('formats: gzip'))!;
    const cpu = (name: string) => formats[name]!.cpuMicrosPerReading!;
    expect(gzip.pass).toBe(cpu('jsonGzip') / cpu('json') <= 1.2 && cpu('lpGzip') / cpu('lp') <= 1.2);
  }, 420_000);
});
