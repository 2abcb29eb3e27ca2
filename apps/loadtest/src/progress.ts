// The load tool's progress display on stderr: a bar on a terminal, plain lines otherwise.
import cliProgress from 'cli-progress';

/** What the progress display shows, read once per update. */
export interface ProgressSnapshot {
  elapsedS: number;
  readingsAccepted: number;
  requests: number;
  errors: number;
  queries: number;
  freshnessSeen: number;
}

/**
 * A progress bar on stderr when it is a terminal (cli-progress); otherwise one plain line every
 * `intervalMs`, so logs of CI runs stay readable.
 */
export class Progress {
  private bar?: cliProgress.SingleBar;
  private timer?: NodeJS.Timeout;
  private last = { at: 0, readings: 0 };

  constructor(
    private readonly durationS: number,
    private readonly intervalMs: number,
    private readonly read: () => ProgressSnapshot,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  start(): void {
    if (this.stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream,
          format:
            'load |{bar}| {value}/{total} s · {rate} readings/s · {accepted} accepted · {errors} errors · {queries} queries',
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.ceil(this.durationS), 0, this.payload(this.read()));
      this.timer = setInterval(() => this.tick(), 500);
    } else if (this.intervalMs > 0) {
      this.timer = setInterval(() => this.tick(), this.intervalMs);
    }
  }

  /** A one-off line (phase changes such as "reconciling"), kept clear of the bar. */
  note(line: string): void {
    if (this.bar) this.bar.stop();
    this.bar = undefined;
    this.stream.write(`${line}\n`);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.bar) {
      this.tick();
      this.bar.stop();
    }
  }

  private tick(): void {
    const s = this.read();
    const payload = this.payload(s);
    if (this.bar) {
      this.bar.update(Math.min(Math.floor(s.elapsedS), Math.ceil(this.durationS)), payload);
    } else {
      this.stream.write(
        `[loadtest] ${s.elapsedS.toFixed(0)}/${this.durationS} s · ${payload.rate} readings/s · ${payload.accepted} accepted · ${s.errors} errors · ${s.queries} queries · ${s.freshnessSeen} markers seen\n`,
      );
    }
  }

  private payload(s: ProgressSnapshot) {
    const now = performance.now();
    const rate = this.last.at ? ((s.readingsAccepted - this.last.readings) * 1000) / (now - this.last.at) : 0;
    this.last = { at: now, readings: s.readingsAccepted };
    return {
      rate: Math.round(rate).toLocaleString('en-US'),
      accepted: s.readingsAccepted.toLocaleString('en-US'),
      errors: s.errors,
      queries: s.queries,
    };
  }
}
