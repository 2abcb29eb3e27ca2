/** A built Funnel process (dist/) under test: started with its own environment, awaited until ready, stopped. */
import path from 'node:path';

import { afterAll, beforeAll } from '@jest/globals';

import { listSettings } from '@funnel/config';
import { freePort, pollUntil, startProcess, type RunningProcess } from '@funnel/dev-infra';

import { TEST_ADMIN_TOKEN } from './env.js';

const MAIN = path.resolve('dist/apps/funnel/src/main.js');

/** The role a Funnel process runs (FUNNEL_ROLE). */
export type FunnelRole = 'all' | 'api' | 'worker';

/** A Funnel process (built app from dist/) started with its own environment. */
export class FunnelProcess {
  private process?: RunningProcess;

  /** A process of `role` on a free port (PORT, or WORKER_PORT for a worker), not started yet. */
  static async onFreePort(role: FunnelRole, env: Record<string, string>): Promise<FunnelProcess> {
    const port = await freePort();
    const portKey = role === 'worker' ? 'WORKER_PORT' : 'PORT';
    return new FunnelProcess({ ...env, FUNNEL_ROLE: role, [portKey]: String(port) }, port);
  }

  /** `env` holds Funnel settings only: a misspelt or renamed one would otherwise leave its default in force. */
  constructor(
    readonly env: Record<string, string>,
    readonly port: number,
  ) {
    const declared = new Set(listSettings().map((s) => s.name));
    const unknown = Object.keys(env).filter((name) => !declared.has(name));
    if (unknown.length > 0) throw new Error(`not Funnel settings (see listSettings()): ${unknown.join(', ')}`);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  start(): this {
    this.process = startProcess(process.execPath, {
      args: [MAIN],
      // Auth is on (the default): every api gets the fixed admin token the test helpers send (env may override it).
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...this.adminToken(), ...this.env },
    });
    return this;
  }

  private adminToken(): Record<string, string> {
    return this.env.FUNNEL_ROLE === 'worker' ? {} : { FUNNEL_ADMIN_TOKEN: TEST_ADMIN_TOKEN };
  }

  /** Everything it printed, stdout and stderr. */
  output(): string {
    return this.process?.output() ?? '';
  }

  /** True from start() until it has exited. */
  get running(): boolean {
    return this.process?.running ?? false;
  }

  /** Resolves once GET /health/ready answers 200; rejects with the process output if it exits or times out. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    try {
      await pollUntil(
        `${this.url}/health/ready to answer 200`,
        async () => {
          const res = await fetch(`${this.url}/health/ready`);
          const text = await res.text();
          if (res.status !== 200) throw new Error(`${res.status} ${text}`);
          return true;
        },
        { timeoutMs, intervalMs: 250, abortIf: () => !this.running && 'funnel exited' },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}:\n${this.process?.tail(60) ?? ''}`, { cause: error });
    }
  }

  /** Sends `signal` without waiting, e.g. SIGKILL for a crash in the middle of work. */
  kill(signal: NodeJS.Signals): void {
    this.process?.kill(signal);
  }

  /** SIGTERM and wait for exit (SIGKILL after `timeoutMs`); the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.process) return null;
    return (await this.process.stop(timeoutMs)).code;
  }
}

/** Transitional: the fault suite on main still takes sleep from here; it now lives in @funnel/dev-infra only. */
export { sleep } from '@funnel/dev-infra';

/**
 * One Funnel process of `role` for a describe block: started and ready before its tests, stopped after them.
 * Call inside `describe`; the returned function gives the process.
 */
export function processForSuite(role: FunnelRole, env: Record<string, string>): () => FunnelProcess {
  let funnel: FunnelProcess | undefined;
  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort(role, env)).start();
    await funnel.waitReady();
  }, 90_000);
  afterAll(async () => {
    await funnel?.stop();
  }, 40_000);
  return () => {
    if (funnel === undefined) throw new Error('the suite process is used before beforeAll started it');
    return funnel;
  };
}
