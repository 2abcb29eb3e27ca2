// Counts what a load run stored (in MongoDB or through the aggregates) to compare with what was acknowledged.
import { setTimeout as sleep } from 'node:timers/promises';

import type { MongoClient } from 'mongodb';

import type { Workload } from './workload.js';

export interface StoredCounter {
  readonly method: 'mongodb' | 'aggregates';
  /** Readings of this run stored so far. */
  count(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Counts the run's readings directly in MongoDB: every sensor of the run, markers included. The driver is
 * loaded on the first count, so runs that do not count in MongoDB (and the load itself) do not pay for it.
 */
export class MongoCounter implements StoredCounter {
  readonly method = 'mongodb';
  private client?: Promise<MongoClient>;

  constructor(
    private readonly uri: string,
    private readonly collection: string,
    private readonly workload: Workload,
  ) {}

  async count(): Promise<number> {
    this.client ??= import('mongodb').then(
      ({ MongoClient }) => new MongoClient(this.uri, { serverSelectionTimeoutMS: 10_000 }),
    );
    const sensors = [...this.workload.sensorIds, this.workload.markerSensorId];
    return (await this.client)
      .db()
      .collection(this.collection)
      .countDocuments({ 'meta.sensorId': { $in: sensors } });
  }

  async close(): Promise<void> {
    await (await this.client)?.close();
  }
}

/**
 * Counts the run's readings through the api: per series, GET /v1/aggregates over the whole span of the run
 * in wide buckets, and sums the bucket counts.
 */
export class AggregatesCounter implements StoredCounter {
  readonly method = 'aggregates';

  constructor(
    private readonly target: string,
    private readonly workload: Workload,
    private readonly span: () => { from: number; to: number },
    private readonly headers: Record<string, string> = {},
    private readonly concurrency = 16,
  ) {}

  async count(): Promise<number> {
    const { from, to } = this.span();
    const series: Array<[string, string]> = Array.from({ length: this.workload.seriesCount }, (_, i) =>
      this.workload.series(i),
    );
    series.push([this.workload.markerSensorId, this.workload.markerMetric]);
    let total = 0;
    let next = 0;
    const worker = async () => {
      while (next < series.length) {
        const [sensorId, metric] = series[next++]!;
        const params = new URLSearchParams({
          sensorId,
          metric,
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          window: '7d',
        });
        const res = await fetch(`${this.target}/v1/aggregates?${params}`, {
          headers: this.headers,
          signal: AbortSignal.timeout(30_000),
        });
        if (res.status !== 200) throw new Error(`GET /v1/aggregates answered ${res.status}: ${await res.text()}`);
        const body = (await res.json()) as { buckets: Array<{ count: number }> };
        total += body.buckets.reduce((s, b) => s + b.count, 0);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, series.length) }, worker));
    return total;
  }

  async close(): Promise<void> {}
}

/**
 * Polls the stored count until it reaches `accepted` (or passes it: a duplicate shows at once) or the
 * timeout ends; a count that fails is retried until then.
 */
export async function settle(
  counter: StoredCounter,
  accepted: number,
  timeoutMs: number,
  onCount: (stored: number) => void = () => undefined,
): Promise<{ stored: number }> {
  const started = performance.now();
  let stored = -1;
  let lastError: unknown;
  while (performance.now() - started < timeoutMs) {
    try {
      stored = await counter.count();
      onCount(stored);
      if (stored >= accepted) break;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  if (stored < 0) throw new Error(`could not count stored readings: ${(lastError as Error)?.message}`);
  return { stored };
}
