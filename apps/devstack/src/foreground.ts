// Keeps a devstack command in the foreground until a signal or a dead server, then stops what it started.
import { defaultLog } from '@funnel/dev-infra';

/** What a foreground command does on the way out; `shutdown` runs it once, then exits with `code`. */
export class Foreground {
  private stopping?: Promise<number>;
  private resolveDone!: (code: number) => void;
  /** Resolves with the exit code once everything is stopped. */
  readonly done = new Promise<number>((resolve) => (this.resolveDone = resolve));
  // The children are unref'd and signal handlers alone keep nothing alive.
  private readonly keepAlive = setInterval(() => {}, 1 << 30);

  constructor(
    private readonly stopEverything: () => Promise<void>,
    private readonly log: (line: string) => void = defaultLog,
  ) {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => void this.shutdown(signal, 0));
    }
  }

  get shuttingDown(): boolean {
    return this.stopping !== undefined;
  }

  shutdown(reason: string, code: number): Promise<number> {
    this.stopping ??= (async () => {
      this.log(`${reason}: stopping what this run started…`);
      await this.stopEverything();
      clearInterval(this.keepAlive);
      this.log('stopped');
      this.resolveDone(code);
      return code;
    })();
    return this.stopping;
  }
}
