import autocannon from 'autocannon';

import { Samples } from './samples.js';
import { StatusCounter } from './status-counter.js';

export interface ProducersOptions {
  target: string;
  bodies: string[];
  connections: number;
  /** Requests per second for all connections together; 0 = unlimited. */
  requestRate: number;
  durationS: number;
  timeoutS: number;
}

interface RequestContext {
  post?: boolean;
}

type Client = object;

/**
 * Concurrent producers on one autocannon instance. At the end of the duration they drain instead of
 * being cut off: new requests become GET /health/live and the run ends once every connection's POST in
 * flight has been answered, so every reading the api accepted is known to have been accepted.
 */
export class Producers {
  readonly latency = new Samples();
  readonly statuses = new StatusCounter();
  readingsAccepted = 0;
  /** POSTs that timed out or lost their connection: the api may or may not have taken their readings. */
  unknownFate = 0;
  /** Set once the load is over and every POST answered. */
  elapsedS = 0;
  private drainAt = Infinity;
  /** When each connection last got an answer (or lost its request): once that is after drainAt, it has no POST in flight. */
  private readonly clients = new Map<Client, number>();
  private lastAnswer: RequestContext & { accepted?: number } = {};
  private lastPostAt = 0;
  private instance?: autocannon.Instance;
  private startedAt = 0;

  constructor(private readonly opts: ProducersOptions) {}

  get requests(): number {
    return this.statuses.total;
  }

  run(): Promise<void> {
    let next = 0;
    const { bodies } = this.opts;
    this.startedAt = performance.now();
    this.drainAt = this.startedAt + this.opts.durationS * 1000;
    const instance = autocannon(
      {
        url: this.opts.target,
        connections: this.opts.connections,
        // Safety net only: the run is stopped by drain() once every POST is answered.
        duration: this.opts.durationS + this.opts.timeoutS + 5,
        timeout: this.opts.timeoutS,
        ...(this.opts.requestRate > 0 ? { overallRate: this.opts.requestRate } : {}),
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (req, context) => {
              const ctx = context as RequestContext;
              ctx.post = performance.now() < this.drainAt;
              return ctx.post
                ? { ...req, method: 'POST', path: '/v1/points', body: bodies[next++ % bodies.length] }
                : { ...req, method: 'GET', path: '/health/live', body: undefined };
            },
            onResponse: (status, body, context) => {
              // Called synchronously just before the instance's 'response' event for the same answer.
              const ctx = context as RequestContext;
              this.lastAnswer = { ...ctx, accepted: ctx.post && status === 202 ? acceptedOf(body) : 0 };
            },
          },
        ],
        setupClient: (client) => {
          this.clients.set(client, 0);
          const failed = (kind: 'timeout' | 'error') => () => {
            // The request in flight was a POST if it was sent after an answer that came before drainAt.
            if ((this.clients.get(client) ?? 0) < this.drainAt) {
              this.statuses.add(kind);
              this.unknownFate++;
            }
            this.clients.set(client, performance.now());
          };
          // Events the typings leave out: a request timed out, the connection failed.
          const events = client as unknown as NodeJS.EventEmitter;
          events.on('timeout', failed('timeout'));
          events.on('connError', failed('error'));
        },
      },
      () => undefined,
    );
    this.instance = instance;
    instance.on('response', (...args: unknown[]) => {
      const [client, status, , responseTime] = args as [Client, number, number, number];
      const answer = this.lastAnswer;
      const now = performance.now();
      this.clients.set(client, now);
      if (!answer.post) return;
      this.lastPostAt = now;
      this.statuses.add(status);
      this.latency.add(responseTime);
      this.readingsAccepted += answer.accepted ?? 0;
    });
    const drained = setInterval(() => {
      if (performance.now() < this.drainAt) return;
      if ([...this.clients.values()].every((answeredAt) => answeredAt >= this.drainAt)) instance.stop();
    }, 20);
    return new Promise<void>((resolve, reject) => {
      instance.on('done', () => {
        clearInterval(drained);
        this.elapsedS = (Math.max(this.lastPostAt, this.startedAt + 1) - this.startedAt) / 1000;
        resolve();
      });
      instance.on('error', (error: Error) => {
        clearInterval(drained);
        reject(error);
      });
    });
  }

  /** Seconds since the producers started. */
  get runningS(): number {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  stop(): void {
    this.instance?.stop();
  }
}

function acceptedOf(body: string): number {
  try {
    const parsed = JSON.parse(body) as { accepted?: unknown };
    return typeof parsed.accepted === 'number' ? parsed.accepted : 0;
  } catch {
    return 0;
  }
}
