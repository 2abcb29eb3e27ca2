import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

import type { LoadtestReport } from '../../apps/loadtest/src/report.js';
import type { Pinning } from './proc.js';

const LOADTEST = path.resolve('dist/apps/loadtest/src/main.js');
export const REGISTER = path.resolve('test/faults/register.mjs');

export interface Child {
  pid: number;
  code: Promise<number | null>;
  output: () => string;
  kill: (signal?: NodeJS.Signals) => void;
}

const live = new Set<ChildProcess>();
process.on('exit', () => live.forEach((child) => child.kill('SIGKILL')));

/** Spawns a command, keeping its output; `prefix` is e.g. a taskset pinning. */
export function run(prefix: string[], command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const [bin, ...rest] = [...prefix, command, ...args];
  const child = spawn(bin!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  live.add(child);
  const code = new Promise<number | null>((resolve) =>
    child.on('close', (c) => {
      live.delete(child);
      resolve(c);
    }),
  );
  return { pid: child.pid!, code, output: () => out, kill: (signal = 'SIGTERM') => child.kill(signal) };
}

/** Runs the built load-testing tool on the generator's CPU and returns its JSON report. */
export async function loadtest(pin: Pinning, tmp: string, args: string[]): Promise<LoadtestReport> {
  const json = path.join(tmp, `loadtest-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const child = run(pin.prefix('generator'), process.execPath, [
    LOADTEST,
    ...args,
    `--json=${json}`,
    '--progress-interval=0',
  ]);
  const code = await child.code;
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
