// The formats stage's load generator (test/bench/formats.ts runs it on the generator's CPU): posts `count`
// readings in one ingest format, `batch` readings per request over `connections` concurrent requests, and
// prints one JSON line: readings acknowledged, requests refused, and when the load started and ended (epoch ms).
// Every body is built (and compressed) before the clock starts, so the generator's own work is not measured;
// the InfluxDB client builds its lines from Points as a client application does.
import { gzipSync } from 'node:zlib';

import { InfluxDB, Point } from '@influxdata/influxdb-client';

/** The formats measured (test/bench/formats.ts names and orders them). */
export type FormatName = 'json' | 'lp' | 'jsonGzip' | 'lpGzip' | 'influxClient';

export interface FormatsJob {
  url: string;
  token: string;
  format: FormatName;
  /** Readings in all; a multiple of 2 × batch is not needed (the last body is shorter). */
  count: number;
  /** Readings per request (two per line of line protocol: fields m0 and m1 of one sensor and time). */
  batch: number;
  connections: number;
  /** Sensor ids are `${runId}-s<n>`, 100 of them. */
  runId: string;
  /** Epoch ms of the first line; line k is at baseTs + k, so every body of a run is different. */
  baseTs: number;
  /**
   * Readings/s offered in all: body b is sent no earlier than b × batch / rate seconds after the start. Unset:
   * as fast as the connections are answered (a closed loop, whose rate differs from format to format).
   */
  rate?: number;
}

export interface FormatsLoadResult {
  acked: number;
  refused: number;
  firstError?: string;
  startedAt: number;
  endedAt: number;
  /** Mean bytes of one request body as sent (after compression). */
  bodyBytes: number;
}

/** The readings of line k: one sensor, two metrics, one time. */
function line(job: FormatsJob, k: number) {
  return {
    sensorId: `${job.runId}-s${k % 100}`,
    ts: job.baseTs + k,
    m0: ((k * 7) % 20000) / 100 - 50,
    m1: ((k * 13 + 5) % 20000) / 100 - 50,
  };
}

/** The lines of body b (batch / 2 lines each), as [first line, end line). */
function linesOf(job: FormatsJob, b: number): [number, number] {
  const perBody = Math.max(1, Math.floor(job.batch / 2));
  const lines = Math.ceil(job.count / 2);
  return [b * perBody, Math.min(lines, (b + 1) * perBody)];
}

function jsonBody(job: FormatsJob, [from, to]: [number, number]): string {
  const readings: unknown[] = [];
  for (let k = from; k < to; k++) {
    const l = line(job, k);
    readings.push({ sensorId: l.sensorId, metric: 'm0', value: l.m0, ts: l.ts });
    readings.push({ sensorId: l.sensorId, metric: 'm1', value: l.m1, ts: l.ts });
  }
  return JSON.stringify(readings);
}

/** Line protocol of the same readings: measurement `funnel` (Funnel's default: metric = the field name). */
function lpBody(job: FormatsJob, [from, to]: [number, number]): string {
  let text = '';
  for (let k = from; k < to; k++) {
    const l = line(job, k);
    text += `funnel,sensor=${l.sensorId} m0=${l.m0},m1=${l.m1} ${l.ts}\n`;
  }
  return text;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]!) as FormatsJob;
  const bodies = Math.ceil(Math.ceil(job.count / 2) / Math.max(1, Math.floor(job.batch / 2)));
  let acked = 0;
  let refused = 0;
  let firstError: string | undefined;
  let bytes = 0;
  let next = 0;

  if (job.format === 'influxClient') {
    // The official client: Points → line protocol, gzip'd above its default gzipThreshold (1,000 bytes), as
    // an application using it sends; one write API per connection, each flushing one body at a time.
    const influx = new InfluxDB({ url: job.url, token: job.token, timeout: 60_000 });
    const startedAt = Date.now();
    await Promise.all(
      Array.from({ length: job.connections }, async () => {
        const writeApi = influx.getWriteApi('bench', 'bench', 'ms', {
          batchSize: job.batch,
          flushInterval: 0,
          maxRetries: 0,
          maxBufferLines: 10 * job.batch,
        });
        for (let b = next++; b < bodies; b = next++) {
          const [from, to] = linesOf(job, b);
          for (let k = from; k < to; k++) {
            const l = line(job, k);
            writeApi.writePoint(
              new Point('funnel')
                .tag('sensor', l.sensorId)
                .floatField('m0', l.m0)
                .floatField('m1', l.m1)
                .timestamp(l.ts),
            );
          }
          try {
            await writeApi.flush();
            acked += 2 * (to - from);
          } catch (error) {
            refused++;
            firstError ??= (error as Error).message;
          }
        }
        await writeApi.close().catch(() => undefined);
      }),
    );
    const endedAt = Date.now();
    print({ acked, refused, firstError, startedAt, endedAt, bodyBytes: 0 });
    return;
  }

  const gzip = job.format === 'jsonGzip' || job.format === 'lpGzip';
  const lp = job.format === 'lp' || job.format === 'lpGzip';
  const path = lp ? '/api/v2/write?org=bench&bucket=bench&precision=ms' : '/v1/points';
  const headers: Record<string, string> = {
    authorization: `Bearer ${job.token}`,
    'content-type': lp ? 'text/plain; charset=utf-8' : 'application/json',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  };
  const built: Array<{ body: Buffer; readings: number }> = [];
  for (let b = 0; b < bodies; b++) {
    const span = linesOf(job, b);
    const text = lp ? lpBody(job, span) : jsonBody(job, span);
    const body = gzip ? gzipSync(text) : Buffer.from(text);
    bytes += body.length;
    built.push({ body, readings: 2 * (span[1] - span[0]) });
  }
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: job.connections }, async () => {
      for (let b = next++; b < bodies; b = next++) {
        const wait = job.rate ? startedAt + (b * job.batch * 1000) / job.rate - Date.now() : 0;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const { body, readings } = built[b]!;
        const res = await fetch(`${job.url}${path}`, { method: 'POST', headers, body });
        if (res.status === 202 || res.status === 204) {
          acked += readings;
          await res.arrayBuffer();
        } else {
          refused++;
          firstError ??= `${res.status} ${(await res.text()).slice(0, 300)}`;
        }
      }
    }),
  );
  const endedAt = Date.now();
  print({ acked, refused, firstError, startedAt, endedAt, bodyBytes: bytes / Math.max(1, bodies) });
}

function print(result: FormatsLoadResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
