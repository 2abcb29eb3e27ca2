// Bench helpers: run the built load-testing tool and read its report, and the median of a stage's rounds.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import { startProcess } from '@funnel/dev-infra';

import type { LoadtestReport } from '../../apps/loadtest/src/report.js';
import { TEST_ADMIN_TOKEN } from '../support/env.js';
import type { Pinning } from './proc.js';

const LOADTEST = path.resolve('dist/apps/loadtest/src/main.js');
export const REGISTER = path.resolve('test/faults/register.mjs');

/** Runs the built load-testing tool on the generator's CPU and returns its JSON report. */
export async function loadtest(pin: Pinning, tmp: string, args: string[]): Promise<LoadtestReport> {
  const json = path.join(tmp, `loadtest-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const child = startProcess(process.execPath, {
    prefix: pin.prefix('generator'),
    args: [LOADTEST, ...args, `--json=${json}`, '--progress-interval=0'],
    // The bench's apis run with auth on and this admin token (see FunnelNode); bare contenders ignore it.
    env: { ...process.env, LOADTEST_TOKEN: TEST_ADMIN_TOKEN },
  });
  const { code } = await child.exited;
  if (code !== 0 && code !== 1) throw new Error(`loadtest ${args.join(' ')} exited ${code}:\n${child.output()}`);
  const report = JSON.parse(await readFile(json, 'utf8')) as LoadtestReport;
  await rm(json, { force: true });
  return report;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
