/** A built Funnel process (dist/) under test: started with its own environment, awaited until ready, stopped. */
import { createServer } from 'node:net';
import path from 'node:path';

import { listSettings } from '@funnel/config';
import { pollUntil, startProcess, type RunningProcess } from '@funnel/dev-infra';

const MAIN = path.resolve('dist/apps/funnel/src/main.js');

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A Funnel process (built app from dist/) started with its own environment. */
export class FunnelProcess {
  private process?: RunningProcess;

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
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', ...this.env },
    });
    return this;
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
