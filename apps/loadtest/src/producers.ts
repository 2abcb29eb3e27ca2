// The load tool's writers: autocannon connections POSTing reading bodies at a paced rate.
import autocannon from 'autocannon';

import { Pacer, type PacedClient } from './pacing.js';
import { Samples } from './samples.js';
import { StatusCounter } from './status-counter.js';

export interface ProducersOptions {
  target: string;
  /** Headers of every request (Authorization). */
  headers?: Record<string, string>;
  /** The pool of request bodies, sent in turn; every body holds the same number of readings. */
  bodies: string[];
  connections: number;
  /** Requests per second for all connections together, spread evenly over time (see Pacer); 0 = unlimited. */
  requestRate: number;
  durationS: number;
  /** Seconds of load before the measured `durationS`, left out of `latency` and `measured`. */
  warmupS?: number;
  timeoutS: number;
}

type Client = autocannon.Client;

/** What the api answers to the drain's GET /health/live; POST /v1/points never answers it (202, 4xx, 5xx). */
const HEALTH_OK = 200;
const ACCEPTED = 202;

/**
 * Concurrent producers on one autocannon instance. At the end of the duration they drain instead of
 * being cut off: every connection switches to GET /health/live and the run ends once every connection's
 * POST in flight has been answered, so every reading the api accepted is known to have been accepted.
 *
 * Per request the tool does as little as the plain autocannon CLI: the requests are static (one per body
 * of the pool, their buffers built once per connection; no setupRequest, no onResponse, so autocannon
 * neither rebuilds a request nor hands over a body to parse), and an answer is told apart by its status
 * alone. Before the switch every request is a POST; after it, a connection's first answer is its last
 * POST's unless it is a 200 (the connection had none in flight), and later answers are GETs.
 */
export class Producers {
  readonly latency = new Samples(1 << 16);
  readonly statuses = new StatusCounter();
  /** Readings in every POST answered 202, warm-up included (what the reconciliation expects stored). */
  readingsAccepted = 0;
  /** After the warm-up: POSTs answered 202 and their readings, and the seconds they took. */
  readonly measured = { accepted: 0, readingsAccepted: 0, elapsedS: 0 };
  /** POSTs that timed out or lost their connection: the api may or may not have taken their readings. */
  unknownFate = 0;
  /** Set once the load is over and every POST answered: seconds since the load started, warm-up included. */
  elapsedS = 0;
  /** Readings in each body of the pool, so in each POST the api answered 202. */
  readonly readingsPerBody: number;
  private readonly clients: Client[] = [];
  /** Set at the end of the duration: from then on connections send GET /health/live. */
  private draining = false;
  /** While draining: connections that have not been answered since the switch, so may have a POST in flight. */
  private readonly inFlight = new Set<Client>();
  private lastPostAt = 0;
  private instance?: autocannon.Instance;
  private startedAt = 0;
  /** Answers before this time are the warm-up's. */
  private measureFrom = 0;

  constructor(private readonly opts: ProducersOptions) {
    this.readingsPerBody = readingsPerBody(opts.bodies);
  }

  private get warmupS(): number {
    return this.opts.warmupS ?? 0;
  }

  get requests(): number {
    return this.statuses.total;
  }

  run(): Promise<void> {
    const pacer =
      this.opts.requestRate > 0
        ? new Pacer(this.opts.requestRate, this.opts.connections, this.opts.timeoutS * 1000)
        : undefined;
    const instance = autocannon(
      {
        url: this.opts.target,
        connections: this.opts.connections,
        // Safety net only: the run is stopped once every POST is answered.
        duration: this.opts.durationS + this.opts.timeoutS + 5,
        timeout: this.opts.timeoutS,
        // autocannon ends a stopped run at its next sample tick: keep the tail of drain GETs short.
        sampleInt: 100,
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        requests: this.opts.bodies.map((body) => ({ method: 'POST' as const, path: '/v1/points', body })),
        setupClient: (client) => {
          this.clients.push(client);
          // autocannon's client methods the typings leave out (see PacedClient).
          pacer?.attach(client as unknown as PacedClient);
          const failed = (kind: 'timeout' | 'error') => () => {
            // Before the switch the request lost was a POST; after it, only if the connection was not answered since.
            if (this.draining && !this.settled(client)) return;
            this.statuses.add(kind);
            this.unknownFate++;
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
    // autocannon set up every connection (and built their requests) before it returned: the run starts now.
    this.startedAt = performance.now();
    // Without a warm-up every answer counts, those to the requests sent while autocannon set up included.
    this.measureFrom = this.warmupS > 0 ? this.startedAt + this.warmupS * 1000 : -Infinity;
    pacer?.start();
    instance.on('response', (client, status, _bytes, responseTime) => {
      // During the drain: answers after a connection's first since the switch are GETs, and so is a 200.
      if (this.draining && (!this.settled(client) || status === HEALTH_OK)) return;
      const now = performance.now();
      this.lastPostAt = now;
      this.statuses.add(status);
      if (status === ACCEPTED) this.readingsAccepted += this.readingsPerBody;
      // Paced: counted from when the request was due, if its connection held it back until then.
      const latency = responseTime + (pacer?.heldMs(client as unknown as PacedClient) ?? 0);
      // A request due (or sent) during the warm-up is the warm-up's.
      if (now - latency < this.measureFrom) return;
      this.latency.add(latency);
      if (status === ACCEPTED) {
        this.measured.accepted++;
        this.measured.readingsAccepted += this.readingsPerBody;
      }
    });
    const drain = setTimeout(
      () => {
        this.draining = true;
        for (const client of this.clients) {
          this.inFlight.add(client);
          client.setRequests([{ method: 'GET', path: '/health/live' }]);
        }
        pacer?.sendWaiting();
        if (this.clients.length === 0) instance.stop();
      },
      (this.warmupS + this.opts.durationS) * 1000,
    );
    return new Promise<void>((resolve, reject) => {
      instance.on('done', () => {
        clearTimeout(drain);
        pacer?.stop();
        const endedAt = Math.max(this.lastPostAt, this.startedAt + 1);
        this.elapsedS = (endedAt - this.startedAt) / 1000;
        this.measured.elapsedS = Math.max(0.001, (endedAt - Math.max(this.startedAt, this.measureFrom)) / 1000);
        resolve();
      });
      instance.on('error', (error: Error) => {
        clearTimeout(drain);
        pacer?.stop();
        reject(error);
      });
    });
  }

  /**
   * While draining, a connection's first answer (or lost request) since the switch settles its POST in
   * flight: true for that one (the caller counts it), false for any later one. Ends the run with the last.
   */
  private settled(client: Client): boolean {
    if (!this.inFlight.delete(client)) return false;
    if (this.inFlight.size === 0) this.instance?.stop();
    return true;
  }

  /** Seconds since the producers started. */
  get runningS(): number {
    return this.startedAt ? (performance.now() - this.startedAt) / 1000 : 0;
  }

  stop(): void {
    this.instance?.stop();
  }
}

/** Readings in each body (a JSON array of readings, or one reading); every body must hold the same number. */
export function readingsPerBody(bodies: string[]): number {
  if (bodies.length === 0) throw new Error('producers need at least one request body');
  const counts = new Set(
    bodies.map((body) => {
      const parsed: unknown = JSON.parse(body);
      return Array.isArray(parsed) ? parsed.length : 1;
    }),
  );
  if (counts.size !== 1)
    throw new Error(`request bodies hold different numbers of readings: ${[...counts].join(', ')}`);
  return [...counts][0]!;
}
