// One Funnel process of a fault scenario or bench stage: start, restart, kill, readiness, memory and its log.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

import { listSettings } from '@funnel/config';
import { pollUntil, startProcess, type RunningProcess } from '@funnel/dev-infra';

import { TEST_ADMIN_TOKEN } from '../support/env.js';

/** The built app; FUNNEL_MAIN points the suite at another build (e.g. a worktree of a given commit). */
export const FUNNEL_MAIN = path.resolve(process.env.FUNNEL_MAIN ?? 'dist/apps/funnel/src/main.js');

/** Settings of Funnel (as the config lib declares them): from the scenario only, never from the shell. */
const FUNNEL_SETTINGS = new Set(listSettings().map((s) => s.name));
const isFunnelSetting = (name: string) => FUNNEL_SETTINGS.has(name);

/** The declared default of a numeric Funnel setting. */
export function settingDefault(name: string): number {
  const value = Number(listSettings().find((s) => s.name === name)?.default);
  if (!Number.isFinite(value)) throw new Error(`${name} is not a Funnel setting with a numeric default`);
  return value;
}

/** Memory of a process from /proc/<pid>/status, in MiB: current RSS and its high-water mark. */
export function memoryOf(pid: number): { rssMb: number; peakMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/**
 * A graceful stop: the process went by itself, no SIGKILL was needed. Nest re-raises the signal after its
 * shutdown hooks have run, so "killed by SIGTERM" is the normal end of a graceful shutdown; whether the
 * hooks did their job is checked by what was stored and committed.
 */
export function graceful(exit: { code: number | null; signal: string | null; forced: boolean } | undefined): boolean {
  return !!exit && !exit.forced && (exit.code === 0 || exit.signal === 'SIGTERM');
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether the suite asked for it (kill/terminate) or it happened on its own. */
  expected: boolean;
  at: number;
}

/**
 * One Funnel process (api or worker role) of a scenario. Unlike test/support's FunnelProcess it can be
 * SIGKILLed, restarted with the same or changed settings on the same port, and its whole output goes to a
 * log file (kept as evidence) rather than only to memory. Emits `exit` with an ExitInfo.
 */
export class FunnelNode extends EventEmitter {
  private child?: RunningProcess;
  private exited?: Promise<ExitInfo>;
  private expectingExit = false;
  private starts = 0;
  readonly exits: ExitInfo[] = [];
  /** Highest VmHWM seen (MiB), read just before each exit the suite causes and by sampleMemory(). */
  peakMb = 0;
  /** Node options placed before the script (those NODE_OPTIONS refuses, such as --cpu-prof). */
  nodeArgs: string[] = [];

  constructor(
    readonly name: string,
    readonly role: 'api' | 'worker',
    public env: Record<string, string>,
    readonly port: number,
    readonly logFile: string,
  ) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child?.running;
  }

  /** Starts the process (again), optionally with changed settings. */
  start(envChanges: Record<string, string> = {}): this {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.env = { ...this.env, ...envChanges };
    const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !isFunnelSetting(k)));
    const env = {
      ...baseEnv,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      // Plain log files: no ANSI colours.
      NO_COLOR: '1',
      FUNNEL_ROLE: this.role,
      [this.role === 'api' ? 'PORT' : 'WORKER_PORT']: String(this.port),
      // Auth on, as in production: the suite's requests send this admin token (ADMIN_AUTH).
      ...(this.role === 'api' ? { FUNNEL_ADMIN_TOKEN: TEST_ADMIN_TOKEN } : {}),
      ...this.env,
    };
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });
    this.starts++;
    const settings = Object.entries(env)
      .filter(([k]) => isFunnelSetting(k))
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    fs.appendFileSync(
      this.logFile,
      `\n===== ${new Date().toISOString()} start #${this.starts} of ${this.name}: ${settings}\n`,
    );
    const child = startProcess(process.execPath, { args: [...this.nodeArgs, FUNNEL_MAIN], env, logFile: this.logFile });
    this.child = child;
    this.expectingExit = false;
    // Resolves once its output is complete in the log.
    this.exited = child.exited.then(({ code, signal }) => {
      const info: ExitInfo = { code, signal, expected: this.expectingExit, at: Date.now() };
      this.exits.push(info);
      fs.appendFileSync(
        this.logFile,
        `===== ${new Date().toISOString()} exit ${signal ?? `code ${code}`}${info.expected ? '' : ' (unexpected)'}\n`,
      );
      this.emit('exit', info);
      return info;
    });
    return this;
  }

  /** One readiness probe: the HTTP status of GET /health/ready, or 0 when nothing answers. */
  async readyStatus(timeoutMs = 2000): Promise<number> {
    try {
      const res = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      return res.status;
    } catch {
      return 0;
    }
  }

  /** Resolves once /health/ready answers 200; throws with the log tail if it exits or times out. */
  async waitReady(timeoutMs = 90_000): Promise<number> {
    const started = Date.now();
    try {
      await pollUntil(`${this.name} to be ready`, async () => (await this.readyStatus()) === 200, {
        timeoutMs,
        abortIf: () => !this.running && 'it exited',
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}:\n${this.tail(30)}`, { cause: error });
    }
    return Date.now() - started;
  }

  /** Records the high-water mark of its memory now (the kernel keeps the true peak in VmHWM). */
  sampleMemory(): { rssMb: number; peakMb: number } | undefined {
    const mem = this.pid ? memoryOf(this.pid) : undefined;
    if (mem) this.peakMb = Math.max(this.peakMb, mem.peakMb);
    return mem;
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<ExitInfo | undefined> {
    if (!this.running) return undefined;
    this.sampleMemory();
    this.expectingExit = true;
    this.child!.kill('SIGKILL');
    return this.exited!;
  }

  /** SIGTERM; SIGKILL after `timeoutMs`. Resolves with the exit and how long the process took to go. */
  async terminate(timeoutMs = 60_000): Promise<(ExitInfo & { ms: number; forced: boolean }) | undefined> {
    if (!this.running) return undefined;
    this.sampleMemory();
    this.expectingExit = true;
    const { ms, forced } = await this.child!.stop(timeoutMs);
    return { ...(await this.exited!), ms, forced };
  }

  /** The last lines it printed. */
  tail(lines = 40): string {
    return this.child?.tail(lines) ?? '';
  }

  /** Lines of its whole log (all starts) matching `pattern`. */
  grep(pattern: RegExp, max = 20): string[] {
    let text: string;
    try {
      text = fs.readFileSync(this.logFile, 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter((line) => pattern.test(line))
      .slice(0, max);
  }
}
