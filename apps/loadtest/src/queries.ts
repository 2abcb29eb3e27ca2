// The load tool's readers: aggregate queries at a set rate while the producers write.
import autocannon from 'autocannon';

import { Samples } from './samples.js';
import { StatusCounter } from './status-counter.js';
import type { Workload } from './workload.js';

export interface QueryUsersOptions {
  target: string;
  /** Headers of every request (Authorization). */
  headers?: Record<string, string>;
  users: number;
  /** Queries per second for all users together; 0 = unlimited. */
  rate: number;
  durationS: number;
  timeoutS: number;
  /** Range every query asks about: the run's time span, in minute buckets. */
  from: number;
  to: number;
}

/** Concurrent users asking for minute aggregates of random series of the run, on their own autocannon instance. */
export class QueryUsers {
  readonly latency = new Samples();
  readonly statuses = new StatusCounter();
  elapsedS = 0;

  constructor(
    private readonly opts: QueryUsersOptions,
    private readonly workload: Workload,
  ) {}

  async run(): Promise<void> {
    const { from, to } = this.opts;
    const range = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&window=minute`;
    let n = 0;
    let finished!: (result: autocannon.Result) => void;
    const done = new Promise<autocannon.Result>((resolve) => (finished = resolve));
    const instance = autocannon(
      {
        url: this.opts.target,
        connections: this.opts.users,
        duration: this.opts.durationS,
        timeout: this.opts.timeoutS,
        headers: this.opts.headers,
        ...(this.opts.rate > 0 ? { overallRate: this.opts.rate } : {}),
        requests: [
          {
            setupRequest: (req) => {
              // A stride coprime to most series counts, so users spread over the series.
              const [sensorId, metric] = this.workload.series((n++ * 7919) % this.workload.seriesCount);
              return { ...req, method: 'GET', path: `/v1/aggregates?sensorId=${sensorId}&metric=${metric}&${range}` };
            },
          },
        ],
      },
      (_error, result) => finished(result),
    );
    instance.on('response', (...args: unknown[]) => {
      const [, status, , responseTime] = args as [unknown, number, number, number];
      this.statuses.add(status);
      this.latency.add(responseTime);
    });
    instance.on('reqError', (error: Error) => this.statuses.add(/timeout/i.test(error.message) ? 'timeout' : 'error'));
    const result = await done;
    this.elapsedS = result.duration;
  }
}
