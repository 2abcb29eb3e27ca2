// The fault suite's load: readings sent at a steady rate, with a ledger of what was acknowledged.
import { sleep } from '@funnel/dev-infra';

import { prng } from '../support/dataset.js';
import { ADMIN_AUTH } from '../support/env.js';

/** One reading the suite sends. `id` is set when the client chooses it; otherwise the api derives one. */
export interface SentReading {
  seq: number;
  id?: string;
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

export const SENSORS = ['fault-s0', 'fault-s1', 'fault-s2', 'fault-s3'];
export const METRICS = ['temperature', 'pressure'];
/** Spacing of reading timestamps: every reading of a scenario has its own ts, so (sensor, metric, ts) finds it. */
const TS_STEP_MS = 7;

/** Key of a reading in MongoDB that does not depend on its id: the api may derive ids, the suite cannot. */
export function fingerprint(sensorId: string, metric: string, ts: number): string {
  return `${sensorId}|${metric}|${ts}`;
}

/**
 * The readings of one scenario, fixed in advance: seeded values with two decimals (some negative), unique
 * timestamps from `base` on, and on every third reading a tag.
 */
export class Dataset {
  readonly readings: SentReading[];

  constructor(
    readonly tag: string,
    readonly base: number,
    count: number,
    seed = 7,
  ) {
    const rand = prng(seed);
    this.readings = Array.from({ length: count }, (_, seq) => ({
      seq,
      sensorId: SENSORS[seq % SENSORS.length],
      metric: METRICS[Math.floor(seq / SENSORS.length) % METRICS.length],
      value: Math.round((rand() * 200 - 50) * 100) / 100,
      ts: base + seq * TS_STEP_MS,
      ...(seq % 3 === 0 ? { tags: { site: `site-${seq % 5}` } } : {}),
    }));
  }

  /** [base, end) covering every reading, in whole minutes. */
  get span(): { from: number; to: number } {
    const last = this.readings.at(-1)?.ts ?? this.base;
    return { from: Math.floor(this.base / 60_000) * 60_000, to: (Math.floor(last / 60_000) + 1) * 60_000 };
  }
}

/**
 * How a request identifies its readings; the kinds rotate so every scenario has all three:
 * ids only, Idempotency-Key only (the api derives the ids), and both. `none` (api-derived ids, no key: nothing the
 * worker could check a copy against) is only sent when a scenario asks for it.
 */
export type RequestKind = 'ids' | 'key' | 'ids+key' | 'none';
const KINDS: RequestKind[] = ['ids', 'key', 'ids+key'];

export type ReadingState = 'unsent' | 'acked' | 'failed';

/** One HTTP attempt. status 0 = no HTTP answer (connection refused/reset, timeout). */
export interface Attempt {
  req: number;
  attempt: number;
  kind: RequestKind;
  size: number;
  sentAt: number;
  doneAt: number;
  status: number;
  retryAfter?: string | null;
  error?: string;
}

/** What the load generator sent and what it was told: the truth the reconciliation checks MongoDB against. */
export class Ledger {
  readonly state: ReadingState[];
  readonly ackedAt: number[];
  readonly attempts: Attempt[] = [];
  /** Answers that contradict the contract for valid data (4xx, a 202 with the wrong count). */
  readonly anomalies: string[] = [];
  private nextReq = 0;

  constructor(readonly dataset: Dataset) {
    this.state = dataset.readings.map(() => 'unsent');
    this.ackedAt = dataset.readings.map(() => 0);
  }

  newRequest(): number {
    return this.nextReq++;
  }

  get sent(): SentReading[] {
    return this.dataset.readings.filter((_, i) => this.state[i] !== 'unsent');
  }

  get acked(): SentReading[] {
    return this.dataset.readings.filter((_, i) => this.state[i] === 'acked');
  }

  count(state: ReadingState): number {
    return this.state.filter((s) => s === state).length;
  }

  /** Attempts answered per status ("202", "503", "no answer"), for notes. */
  statusCounts(filter: (a: Attempt) => boolean = () => true): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.attempts.filter(filter)) {
      const key = a.status === 0 ? 'no answer' : String(a.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }
}

export interface LoadOptions {
  /** Base URL of the api (read per attempt: it may be restarted). */
  api: () => string;
  /** Readings [from, to) of the dataset. */
  from: number;
  to: number;
  /** Typical readings per request (sizes vary around it; every 7th request carries one reading as a bare object). */
  batch: number;
  concurrency: number;
  /** Requests are spread evenly over this time (0 = as fast as possible). */
  durationMs: number;
  /** A request is retried (same body, same Idempotency-Key) on 5xx or no answer, this many attempts at most... */
  maxAttempts?: number;
  /** ...and for at most this long. */
  giveUpMs?: number;
  requestTimeoutMs?: number;
  /** Nothing is sent later than this long after durationMs is over, whatever is left (default 3 min). */
  overrunMs?: number;
  /** The request kinds to rotate through (default: ids, key, ids+key). */
  kinds?: RequestKind[];
}

/**
 * Concurrent fetch loops to the api on 127.0.0.1, bounded by a number of readings and by time. A client
 * that behaves as a careful producer should: a failed request is retried with the same body and key, so a
 * request that reached Kafka but was not answered is sent again, which the pipeline must store once.
 */
export class LoadGenerator {
  inFlight = 0;
  maxInFlight = 0;
  /** Start times of the requests in flight. */
  private readonly pending = new Set<number>();
  readonly done: Promise<void>;
  private stopped = false;
  private readonly batches: Array<{ from: number; to: number }> = [];
  private next = 0;
  private readonly startedAt = Date.now();
  private readonly endAt: number;

  constructor(
    private readonly ledger: Ledger,
    private readonly opts: LoadOptions,
  ) {
    for (let i = opts.from, n = 0; i < opts.to; n++) {
      const size = n % 7 === 0 ? 1 : Math.max(2, Math.round(opts.batch * (0.5 + ((n * 37) % 100) / 100)));
      this.batches.push({ from: i, to: Math.min(opts.to, i + size) });
      i += size;
    }
    this.endAt = this.startedAt + opts.durationMs + (opts.overrunMs ?? 180_000);
    this.done = Promise.all(Array.from({ length: opts.concurrency }, () => this.loop())).then(() => undefined);
  }

  /** No new requests and no further retries; requests in flight finish. */
  stop(): void {
    this.stopped = true;
  }

  /** How long the oldest request in flight has been waiting (0 when none is). */
  get oldestInFlightMs(): number {
    return this.pending.size ? Date.now() - Math.min(...this.pending) : 0;
  }

  /** Share of the batches started so far, 0..1. */
  get progress(): number {
    return this.next / Math.max(1, this.batches.length);
  }

  /** Resolves once `share` of the batches were started (or the load ended). */
  async reach(share: number): Promise<void> {
    while (this.progress < share && !this.finished) await sleep(50);
  }

  get finished(): boolean {
    return this.next >= this.batches.length || this.stopped || Date.now() > this.endAt;
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.stopped || this.next >= this.batches.length || Date.now() > this.endAt) return;
      const n = this.next++;
      const due = this.startedAt + (n * this.opts.durationMs) / this.batches.length;
      if (due > Date.now()) await sleep(due - Date.now());
      await this.send(this.batches[n]);
    }
  }

  private async send({ from, to }: { from: number; to: number }): Promise<void> {
    const ledger = this.ledger;
    const req = ledger.newRequest();
    const kinds = this.opts.kinds ?? KINDS;
    const kind = kinds[req % kinds.length];
    const readings = ledger.dataset.readings.slice(from, to);
    const clientIds = kind === 'ids' || kind === 'ids+key';
    for (const r of readings) {
      if (clientIds) r.id = `${ledger.dataset.tag}.${r.seq}`;
      ledger.state[r.seq] = ledger.state[r.seq] === 'acked' ? 'acked' : 'failed';
    }
    const points = readings.map((r) => ({
      ...(clientIds ? { id: r.id } : {}),
      sensorId: r.sensorId,
      metric: r.metric,
      value: r.value,
      ts: r.ts,
      ...(r.tags ? { tags: r.tags } : {}),
    }));
    const body = JSON.stringify(points.length === 1 ? points[0] : points);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...ADMIN_AUTH };
    if (kind === 'key' || kind === 'ids+key') headers['idempotency-key'] = `${ledger.dataset.tag}-req-${req}`;

    const maxAttempts = this.opts.maxAttempts ?? 60;
    const giveUpAt = Math.min(this.endAt, Date.now() + (this.opts.giveUpMs ?? 60_000));
    for (let attempt = 1; attempt <= maxAttempts && !this.stopped; attempt++) {
      const a: Attempt = { req, attempt, kind, size: readings.length, sentAt: Date.now(), doneAt: 0, status: 0 };
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      const token = a.sentAt + Math.random() / 1000; // distinct key, same millisecond
      this.pending.add(token);
      let text = '';
      try {
        const res = await fetch(`${this.opts.api()}/v1/points`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(this.opts.requestTimeoutMs ?? 20_000),
        });
        a.status = res.status;
        a.retryAfter = res.headers.get('retry-after');
        text = await res.text();
      } catch (error) {
        a.error = (error as Error).cause ? String((error as Error & { cause: Error }).cause.message) : String(error);
      } finally {
        this.pending.delete(token);
        this.inFlight--;
        a.doneAt = Date.now();
        ledger.attempts.push(a);
      }
      if (a.status >= 200 && a.status < 300) {
        const accepted = safeJson(text)?.accepted;
        if (accepted !== readings.length) {
          ledger.anomalies.push(`request ${req}: ${a.status} ${text.slice(0, 200)} for ${readings.length} readings`);
        }
        for (const r of readings) {
          ledger.state[r.seq] = 'acked';
          ledger.ackedAt[r.seq] = a.doneAt;
        }
        return;
      }
      if (a.status >= 400 && a.status < 500 && a.status !== 408 && a.status !== 429) {
        ledger.anomalies.push(`request ${req} (${kind}): ${a.status} ${text.slice(0, 300)}`);
        return;
      }
      if (Date.now() >= giveUpAt) return;
      // Honour Retry-After, but keep retrying briskly so the ledger sees the recovery.
      const retryAfterMs = Number(a.retryAfter) * 1000;
      await sleep(
        Number.isFinite(retryAfterMs) && retryAfterMs > 0
          ? Math.min(retryAfterMs, 1500)
          : Math.min(200 * attempt, 1500),
      );
    }
  }
}

function safeJson(text: string): { accepted?: number } | undefined {
  try {
    return JSON.parse(text) as { accepted?: number };
  } catch {
    return undefined;
  }
}
