// Supervision of the servers the dev infrastructure starts: start locks, the state file, logs, stopping leftovers.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { FUNNEL_DIR, LOG_DIR, rel, secs, STATE_FILE, tail, toLog, writeAtomic, type Log } from './paths.js';
import { pollUntil, PollTimeout } from './poll.js';
import { startProcess, type RunningProcess } from './process-runner.js';

export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: string | null;
  logFile: string;
}

/** What every server handle (started here or found running) can do. */
export interface ServerControl {
  readonly pid: number | null;
  /** SIGTERM (controlled shutdown), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
  /** Stops it if running, then starts it again on the same port and data. */
  restart(): Promise<void>;
}

interface StateEntry {
  name: string;
  kind: string;
  pid: number;
  owner: number;
  marker: string;
  logFile: string;
  startedAt: string;
}

const heldLocks = new Map<string, string>();
let lockHook = false;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `fn` holding .funnel/locks/<name>.lock, so that two processes (a test run and a `devstack up`, or
 * two test runs) never start a server on the same port and data dir at once: the second waits, then finds
 * the first one's server answering and reuses it. Re-entrant within a process; a lock whose owner died is
 * taken over.
 */
export async function withStartLock<T>(
  name: string,
  fn: () => Promise<T>,
  { log, timeoutMs = 300_000 }: { log?: Log; timeoutMs?: number } = {},
): Promise<T> {
  if (heldLocks.has(name)) return fn();
  const say = toLog(log);
  const file = path.join(FUNNEL_DIR, 'locks', `${name}.lock`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let told = false;
  let owner = NaN;
  const take = (): boolean => {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    try {
      owner = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    } catch {
      return false;
    }
    // An empty file is a lock being written this instant, not a stale one.
    if (Number.isInteger(owner) && !isAlive(owner)) {
      fs.rmSync(file, { force: true });
      return take();
    }
    if (!told) say(`waiting for process ${owner}, which is starting ${name}…`);
    told = true;
    return false;
  };
  try {
    await pollUntil(`process ${owner} to finish starting ${name} (${rel(file)})`, take, { timeoutMs, intervalMs: 200 });
  } catch (err) {
    if (err instanceof PollTimeout) {
      throw new Error(
        `gave up after ${secs(timeoutMs)} waiting for process ${owner} to finish starting ${name} (${rel(file)})`,
        { cause: err },
      );
    }
    throw err;
  }
  heldLocks.set(name, file);
  installLockHook();
  try {
    return await fn();
  } finally {
    heldLocks.delete(name);
    fs.rmSync(file, { force: true });
  }
}

/** A crashed run must not leave its start locks behind (a later run would wait on a dead owner's pid). */
function installLockHook(): void {
  if (lockHook) return;
  lockHook = true;
  process.on('exit', () => {
    for (const file of heldLocks.values()) fs.rmSync(file, { force: true });
  });
}

function readState(): { entries: StateEntry[] } {
  try {
    const state = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as { entries?: unknown };
    return Array.isArray(state.entries) ? (state as { entries: StateEntry[] }) : { entries: [] };
  } catch {
    return { entries: [] };
  }
}

function writeState(state: { entries: StateEntry[] }): void {
  if (state.entries.length === 0) fs.rmSync(STATE_FILE, { force: true });
  else writeAtomic(STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
}

function recordStarted(entry: StateEntry): void {
  const state = readState();
  state.entries = state.entries.filter((e) => e.pid !== entry.pid);
  state.entries.push(entry);
  writeState(state);
}

function forgetStarted(pid: number): void {
  const state = readState();
  const before = state.entries.length;
  state.entries = state.entries.filter((e) => e.pid !== pid);
  if (state.entries.length !== before) writeState(state);
}

// The marker (a -D property or a unique path) guards against killing an unrelated process that reused a pid.
function commandLineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    const r = spawnSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : '';
  }
}

const gone = (pid: number, timeoutMs: number) =>
  pollUntil(`pid ${pid} to exit`, () => !isAlive(pid), { timeoutMs, intervalMs: 100 }).then(
    () => true,
    () => false,
  );

/** SIGTERM, then SIGKILL after `timeoutMs`, for a process that is not our child. */
async function terminatePid(pid: number, timeoutMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  if (await gone(pid, timeoutMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await gone(pid, 5000);
}

/**
 * Stops processes recorded in .funnel/infra-state.json by startKafka/startMongo (and so by ensureInfra):
 * SIGTERM, wait, then SIGKILL. By default only entries whose starting process is this one or is gone
 * (leftovers), so a test run cannot stop what a live `devstack up` in another shell owns; `all: true`
 * stops every entry (`devstack down`). Removes the file once no entry is left.
 */
export async function stopStarted({
  all = false,
  timeoutMs = 30_000,
  log,
}: { all?: boolean; timeoutMs?: number; log?: Log } = {}): Promise<
  Array<{ name: string; pid: number; was: 'stopped' | 'gone' }>
> {
  const say = toLog(log);
  const { entries } = readState();
  const mine = entries.filter((e) => all || e.owner === process.pid || !isAlive(e.owner));
  const results = await Promise.all(
    mine.map(async (e) => {
      const running = isAlive(e.pid) && commandLineOf(e.pid).includes(e.marker);
      if (running) {
        await terminatePid(e.pid, timeoutMs);
        say(`stopped ${e.name} (pid ${e.pid})`);
      }
      forgetStarted(e.pid);
      return { name: e.name, pid: e.pid, was: running ? ('stopped' as const) : ('gone' as const) };
    }),
  );
  const others = readState().entries;
  if (others.length > 0 && !all) {
    say(
      `left ${others.map((e) => `${e.name} (pid ${e.pid})`).join(', ')}: owned by live process(es) ${[...new Set(others.map((e) => e.owner))].join(', ')}`,
    );
  }
  return results;
}

function openLog(name: string): string {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${name}.log`);
  fs.appendFileSync(file, `\n===== ${new Date().toISOString()} start (parent pid ${process.pid}) =====\n`);
  return file;
}

/** The last lines of a server's log, only from its current run: earlier runs' lines would mislead. */
export function logTail(file: string, lines = 40): string {
  try {
    const text = fs.readFileSync(file, 'utf8');
    const start = text.lastIndexOf('\n===== ');
    return tail(start >= 0 ? text.slice(start + 1) : text, lines);
  } catch {
    return '(no log)';
  }
}

/** True when something accepts a TCP connection on host:port. */
export function portAnswers(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A free TCP port on loopback, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function assertPortFree(port: number, host: string, what: string): Promise<void> {
  if (await portAnswers(port, host)) {
    throw new Error(
      `cannot start ${what}: something already listens on ${host}:${port} (devstack down stops leftovers of earlier runs)`,
    );
  }
}

/** Calls `probe` until it answers; a missing npm package fails at once, anything else is retried. */
export async function answersWithin<T>(probe: () => Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let missing: Error | undefined;
  try {
    return await pollUntil(
      what,
      () =>
        probe().catch((err: Error) => {
          if (/is not installed/.test(err.message)) missing = err;
          throw err;
        }),
      { timeoutMs, intervalMs: 500, abortIf: () => missing?.message },
    );
  } catch (err) {
    if (missing) throw missing;
    if (err instanceof PollTimeout) {
      throw new Error(`${what} did not answer within ${secs(timeoutMs)}: ${err.last}`, { cause: err });
    }
    throw err;
  }
}

/** Class-data sharing arguments for one JVM start, and what to do with the archive after it exits. */
export interface CdsArgs {
  args: string[];
  afterExit: (signal: string | null) => void;
}

export interface SuperviseOptions {
  name: string;
  kind: string;
  command: string;
  args: string[];
  /** Computed at each launch (the archive may have been written by the previous run). */
  cds: () => CdsArgs;
  marker: string;
  waitReady: () => Promise<unknown>;
  readyTimeoutMs: number;
  log?: Log;
  dieWithParent: boolean;
  onUnexpectedExit?: (info: UnexpectedExit) => void;
}

/** A supervised server: launch (and wait until ready) as often as needed, stop, kill. */
export interface Supervised {
  launch(): Promise<void>;
  readonly pid: number | null;
  readonly running: boolean;
  readonly logFile: string;
  stop(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

/**
 * A long-running server process whose stdout/stderr go to .funnel/logs/<name>.log, recorded in the state
 * file while it runs, with a handle that can stop, kill and start it again with the same command line.
 */
export function superviseProcess(options: SuperviseOptions): Supervised {
  const { name, kind, command, args, marker, waitReady, readyTimeoutMs, log, dieWithParent, onUnexpectedExit } =
    options;
  const say = toLog(log);
  const logFile = path.join(LOG_DIR, `${name}.log`);
  let child: RunningProcess | null = null;
  let stopping = false;

  const stopChild = async (c: RunningProcess | null, timeoutMs: number, signal: NodeJS.Signals = 'SIGTERM') => {
    if (!c?.running) return;
    stopping = true;
    const { forced } = await c.stop(timeoutMs, signal);
    if (forced) say(`${name} (pid ${c.pid}) ignored ${signal} for ${secs(timeoutMs)}; sending SIGKILL`);
  };

  const launch = async () => {
    openLog(name);
    const cds = options.cds();
    // Same process group (a terminal Ctrl-C reaches it too); unref'd so a forgotten handle never keeps a
    // script or a test runner alive. The exit hook and the stdin pipe still take it down with us.
    const c = startProcess(command, {
      args: [...cds.args, ...args],
      logFile,
      stdin: dieWithParent ? 'pipe' : 'ignore',
      unref: true,
      onParentExit: 'SIGTERM',
    });
    await c.spawned;
    child = c;
    stopping = false;
    let ready = false;
    const pid = c.pid!;
    void c.exited.then(({ code, signal }) => {
      cds.afterExit(signal);
      forgetStarted(pid);
      if (child === c) child = null;
      // A death during startup is reported by launch() itself.
      if (ready && !stopping && onUnexpectedExit) onUnexpectedExit({ name, code, signal, logFile });
    });
    recordStarted({ name, kind, pid, owner: process.pid, marker, logFile, startedAt: new Date().toISOString() });

    try {
      await pollUntil(`${name} to answer`, async () => (await waitReady(), true), {
        timeoutMs: readyTimeoutMs,
        intervalMs: 250,
        abortIf: () => !c.running && 'exited',
      });
      ready = true;
    } catch (err) {
      if (!(err instanceof PollTimeout)) throw err;
      if (err.aborted) {
        const { code, signal } = await c.exited;
        throw new Error(
          `${name} exited during startup (exit ${code ?? signal}); ${rel(logFile)}:\n${logTail(logFile)}`,
          { cause: err },
        );
      }
      await stopChild(c, 10_000);
      throw new Error(
        `${name} did not answer within ${secs(readyTimeoutMs)} (last error: ${err.last}); ${rel(logFile)}:\n${logTail(logFile)}`,
        { cause: err },
      );
    }
  };

  return {
    launch,
    get pid() {
      return child?.pid ?? null;
    },
    get running() {
      return child !== null;
    },
    logFile,
    stop: (timeoutMs = 30_000) => stopChild(child, timeoutMs),
    kill: () => stopChild(child, 10_000, 'SIGKILL'),
  };
}

/** Stops a server and starts it again on the same port and data, under its start lock. */
export function restartInPlace(opts: {
  name: string;
  proc: Supervised;
  port: number;
  host: string;
  what: string;
  startOnce: (what: string) => Promise<void>;
  log?: Log;
}): Promise<void> {
  return withStartLock(
    opts.name,
    async () => {
      await opts.proc.stop();
      await assertPortFree(opts.port, opts.host, `${opts.what} on port ${opts.port}`);
      await opts.startOnce('restarted');
    },
    { log: opts.log },
  );
}

/** The control of a server this process did not start: stopping it is a no-op, killing it is refused. */
export function externalControl(label: string): ServerControl {
  const refuse = (what: string) => async () => {
    throw new Error(`cannot ${what} ${label}: it was not started by @funnel/dev-infra`);
  };
  return { pid: null, stop: async () => {}, kill: refuse('kill'), restart: refuse('restart') };
}
