// Measures end-to-end freshness: marker readings sent during the run and the time until a query sees each.
import { setTimeout as sleep } from 'node:timers/promises';

import { Samples } from './samples.js';
import type { Workload } from './workload.js';

export interface FreshnessOptions {
  target: string;
  /** Headers of every request (Authorization). */
  headers?: Record<string, string>;
  intervalMs: number;
  timeoutMs: number;
  /** How often the visibility query runs while markers are pending. */
  pollMs?: number;
}

const SECOND = 1000;
/** Markers sit one per second from a day before the run, so each has its own 1s bucket. */
const MARKER_BASE_OFFSET_MS = 86_400_000;

/**
 * Freshness sampling: every `intervalMs` one marker reading is posted, then a single query polls the
 * markers still pending (1s buckets of the marker series) until each is seen. A marker's freshness is the
 * time from sending its POST until the first answer that counts it.
 */
export class FreshnessProbe {
  readonly ms = new Samples();
  markersSent = 0;
  /** Markers the api answered 202 for: they are part of the readings accepted. */
  markersAccepted = 0;
  notVisible = 0;
  readonly base: number;
  private readonly pending = new Map<number, number>();
  private sending?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<void>>();
  private polling?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly opts: FreshnessOptions,
    private readonly workload: Workload,
    startMs: number,
  ) {
    this.base = Math.floor(startMs / SECOND) * SECOND - MARKER_BASE_OFFSET_MS;
  }

  /** Range [from, to) holding every marker of the run. */
  get span(): { from: number; to: number } {
    return { from: this.base, to: this.base + Math.max(1, this.markersSent) * SECOND };
  }

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    const send = () => {
      const p = this.send().finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    };
    send();
    this.sending = setInterval(send, this.opts.intervalMs);
    this.polling = this.poll();
  }

  /** Stops sending; resolves once every marker sent was answered (markersAccepted is final then). */
  async stopSending(): Promise<void> {
    clearInterval(this.sending);
    await Promise.all(this.inFlight);
    this.stopped = true;
  }

  /** Resolves once every accepted marker was seen or timed out. */
  async finished(): Promise<void> {
    await this.polling;
  }

  private async send(): Promise<void> {
    const ts = this.base + this.markersSent * SECOND;
    const reading = { sensorId: this.workload.markerSensorId, metric: this.workload.markerMetric, value: 1, ts };
    this.markersSent++;
    const sentAt = performance.now();
    try {
      const res = await fetch(`${this.opts.target}/v1/points`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.opts.headers },
        body: JSON.stringify(reading),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.arrayBuffer();
      if (res.status === 202) {
        this.markersAccepted++;
        this.pending.set(ts, sentAt);
      }
    } catch {
      // A marker the api did not answer for is not sampled (and not counted as accepted).
    }
  }

  private async poll(): Promise<void> {
    const pollMs = this.opts.pollMs ?? 20;
    while (!this.stopped || this.pending.size > 0) {
      await sleep(pollMs);
      if (this.pending.size === 0) continue;
      const now = performance.now();
      for (const [ts, sentAt] of this.pending) {
        if (now - sentAt > this.opts.timeoutMs) {
          this.pending.delete(ts);
          this.notVisible++;
        }
      }
      const keys = [...this.pending.keys()];
      if (keys.length === 0) continue;
      const from = Math.min(...keys);
      const to = Math.max(...keys) + SECOND;
      const params = new URLSearchParams({
        sensorId: this.workload.markerSensorId,
        metric: this.workload.markerMetric,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        window: '1s',
      });
      try {
        const res = await fetch(`${this.opts.target}/v1/aggregates?${params}`, {
          headers: this.opts.headers,
          signal: AbortSignal.timeout(5000),
        });
        if (res.status !== 200) continue;
        const seenAt = performance.now();
        const body = (await res.json()) as { buckets: Array<{ start: string; count: number }> };
        for (const b of body.buckets) {
          const sentAt = this.pending.get(Date.parse(b.start));
          if (sentAt !== undefined && b.count > 0) {
            this.ms.add(seenAt - sentAt);
            this.pending.delete(Date.parse(b.start));
          }
        }
      } catch {
        // The next poll tries again; a marker never seen ends as not visible.
      }
    }
  }
}
