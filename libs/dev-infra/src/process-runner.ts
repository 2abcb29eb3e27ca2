// The one process runner: spawn a command, keep (and optionally log) its output, stop it, never leak it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StopInfo extends ExitInfo {
  /** How long it took to go after the signal. */
  ms: number;
  /** True when it ignored SIGTERM and was killed. */
  forced: boolean;
}

export interface ProcessOptions {
  args?: string[];
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Variables set over that environment for the child. */
  extraEnv?: Record<string, string>;
  cwd?: string;
  /** Words put before the command, e.g. a `taskset -c 0` pinning. */
  prefix?: string[];
  /** Sends stdout and stderr straight to the end of this file (its directory is created), not through Node. */
  logFile?: string;
  /** How much of the output output() and tail() give (default 1 MB). */
  keepChars?: number;
  /**
   * 'pipe' gives the child a stdin it never gets data on: it sees EOF when this process dies, even by
   * SIGKILL, which is how the Java launchers know to exit. Default 'ignore'.
   */
  stdin?: 'ignore' | 'pipe';
  /** Shares this process's stdout and stderr (output() is then empty), e.g. for a foreground service. */
  inherit?: boolean;
  /** Its own process group, so that signalGroup() reaches it and its children as a terminal's Ctrl-C does. */
  detached?: boolean;
  /** Lets this process exit while the child runs (the exit hook still signals it). Default false. */
  unref?: boolean;
  /** Signal sent to a still-running child when this process exits (default SIGKILL). */
  onParentExit?: NodeJS.Signals;
}

const live = new Map<ChildProcess, NodeJS.Signals>();
let exitHook = false;

/** Children must not outlive the script or test run that started them, even when it crashes. */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  // 'exit' handlers cannot wait, so this only signals.
  process.on('exit', () => {
    for (const [child, signal] of live) {
      try {
        child.kill(signal);
      } catch {
        /* already gone */
      }
    }
  });
}

/** A running child process started by startProcess(). */
export class RunningProcess {
  /** Resolves once the process has exited and its output pipes are drained. */
  readonly exited: Promise<ExitInfo>;
  /** Resolves once the OS started it; rejects when it could not (e.g. no such command). */
  readonly spawned: Promise<void>;
  private readonly child: ChildProcess;
  /** The file its output goes to, when ProcessOptions.logFile was given. */
  readonly logFile?: string;
  private readonly logStart: number = 0;
  private readonly keepChars: number;
  private out = '';
  private done?: ExitInfo;

  constructor(
    readonly command: string,
    options: ProcessOptions = {},
  ) {
    const { args = [], cwd, prefix = [], logFile, stdin = 'ignore' } = options;
    const env = { ...(options.env ?? process.env), ...options.extraEnv };
    const [bin, ...rest] = [...prefix, command, ...args];
    this.keepChars = options.keepChars ?? 1 << 20;
    if (logFile) {
      // Straight into the file: a busy or blocked event loop here never stalls the child on a full pipe.
      fs.mkdirSync(path.dirname(logFile), { recursive: true });
      const fd = fs.openSync(logFile, 'a');
      this.logFile = logFile;
      this.logStart = fs.fstatSync(fd).size;
      try {
        this.child = spawn(bin!, rest, { env, cwd, detached: options.detached, stdio: [stdin, fd, fd] });
      } finally {
        fs.closeSync(fd);
      }
    } else if (options.inherit) {
      this.child = spawn(bin!, rest, { env, cwd, detached: options.detached, stdio: [stdin, 'inherit', 'inherit'] });
    } else {
      this.child = spawn(bin!, rest, { env, cwd, detached: options.detached, stdio: [stdin, 'pipe', 'pipe'] });
      const keep = (chunk: Buffer) => {
        this.out += chunk.toString();
        if (this.out.length > this.keepChars) this.out = this.out.slice(-Math.floor(this.keepChars / 2));
      };
      this.child.stdout?.on('data', keep);
      this.child.stderr?.on('data', keep);
    }
    this.child.stdin?.on('error', () => {});
    if (options.unref) {
      this.child.unref();
      for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      }
    }
    live.set(this.child, options.onParentExit ?? 'SIGKILL');
    installExitHook();
    this.spawned = new Promise((resolve, reject) => {
      this.child.once('spawn', () => resolve());
      this.child.once('error', reject);
    });
    this.spawned.catch(() => {});
    // 'close' comes after 'exit' once the output pipes are drained: output() is complete when this resolves.
    this.exited = new Promise((resolve) => {
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.done) return;
        live.delete(this.child);
        this.done = { code, signal };
        resolve(this.done);
      };
      this.child.once('close', finish);
      // A command that never started emits 'error' and maybe no 'close'.
      this.child.once('error', () => finish(null, null));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True until it has exited. */
  get running(): boolean {
    return this.done === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything it printed (the most recent part, when it printed more than keepChars). */
  output(): string {
    if (!this.logFile) return this.out;
    try {
      const bytes = fs.readFileSync(this.logFile);
      return bytes.subarray(Math.max(this.logStart, bytes.length - this.keepChars)).toString();
    } catch {
      return '';
    }
  }

  /** The last `lines` lines it printed. */
  tail(lines = 40): string {
    return this.output().trimEnd().split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal` (default SIGTERM) without waiting. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Sends `signal` to its whole process group (started with `detached`). */
  signalGroup(signal: NodeJS.Signals): void {
    if (this.running && this.child.pid) process.kill(-this.child.pid, signal);
  }

  /** SIGTERM (or `signal`), SIGKILL after `timeoutMs`; resolves once it has exited. */
  async stop(timeoutMs = 30_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<StopInfo> {
    const started = Date.now();
    if (!this.running) return { ...(this.done ?? (await this.exited)), ms: 0, forced: false };
    this.child.kill(signal);
    let forced = false;
    // A ref'd timer keeps the event loop alive until the exit, although the child may be unref'd.
    const timer = setTimeout(() => {
      forced = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    const info = await this.exited;
    clearTimeout(timer);
    return { ...info, ms: Date.now() - started, forced };
  }
}

/** Starts `command` (see ProcessOptions); the handle keeps its output and can stop it. */
export function startProcess(command: string, options?: ProcessOptions): RunningProcess {
  return new RunningProcess(command, options);
}

/** Runs `command` to its end and returns how it exited with everything it printed. */
export async function runProcess(
  command: string,
  options?: ProcessOptions & { timeoutMs?: number },
): Promise<ExitInfo & { out: string }> {
  const child = startProcess(command, options);
  await child.spawned;
  // A run past its timeout is stopped (SIGTERM, then SIGKILL) and reported with its signal.
  const timer = options?.timeoutMs ? setTimeout(() => void child.stop(5_000), options.timeoutMs) : undefined;
  const info = await child.exited;
  clearTimeout(timer);
  return { code: info.code, signal: info.signal, out: child.output() };
}
