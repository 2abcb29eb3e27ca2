// Reads processes' CPU time from /proc and pins processes to CPUs for the bench.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

export { memoryOf } from '../faults/funnel-node.js';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, in microseconds, from /proc/<pid>/stat. */
export function cpuMicros(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/**
 * Where the load generator and the service run. With taskset and at least two CPUs the service (api,
 * worker, bare server, driver baseline) is pinned to CPU 0 and the load generator to CPU 1, so the
 * generator does not steal the service's CPU; Kafka and MongoDB stay unpinned (shared with other users).
 * A started service's helper threads are then let onto either CPU (`freeHelpers`).
 */
export class Pinning {
  readonly enabled: boolean;

  constructor(wanted: boolean) {
    const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' }).status === 0;
    this.enabled = wanted && taskset && os.availableParallelism() >= 2;
  }

  get description(): string {
    return this.enabled
      ? 'service (api, worker, bare server, driver baseline) on CPU 0, its V8 helper threads (concurrent GC, compilers) on either; load generator on CPU 1; Kafka and MongoDB unpinned'
      : 'not pinned';
  }

  /** Command prefix that runs a program on the generator's or the service's CPU. */
  prefix(role: 'service' | 'generator'): string[] {
    return this.enabled ? ['taskset', '-c', role === 'service' ? '0' : '1'] : [];
  }

  /** Pins every thread of a running process to the service CPU. */
  pinService(pid: number): void {
    if (this.enabled) spawnSync('taskset', ['-a', '-pc', '0', String(pid)], { stdio: 'ignore' });
  }

  /**
   * Lets a started service's threads other than its main one run on either CPU: V8 marks the heap
   * concurrently on helper threads, and confined to the main thread's CPU they took it from the main thread
   * (a full collection held requests up 80+ ms instead of 15-20). The main thread, which serves the
   * requests, stays on the service CPU, and so do the threads it starts later.
   */
  freeHelpers(pid: number): void {
    if (!this.enabled) return;
    let tids: string[];
    try {
      tids = fs.readdirSync(`/proc/${pid}/task`).filter((tid) => tid !== String(pid));
    } catch {
      return;
    }
    for (const tid of tids) spawnSync('taskset', ['-pc', '0,1', tid], { stdio: 'ignore' });
  }
}
