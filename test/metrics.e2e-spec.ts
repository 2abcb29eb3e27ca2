import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil, Scrape } from '@funnel/dev-infra';

import { FUNNEL_VERSION, isolatedEnv, settingDefault } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { postJson } from './support/http.js';
import { testKafka } from './support/kafka.js';
import { jsonLines } from './support/log-lines.js';

// What the run does, counted here independently of the app: requests of exactly one record, of several, and of
// a part of one (the api packs at most KAFKA_POINTS_PER_RECORD readings into one record).
const PER_RECORD = settingDefault('KAFKA_POINTS_PER_RECORD');
const ACCEPTED_BATCHES = [PER_RECORD, 2 * PER_RECORD + 200, 37];
const ACCEPTED = ACCEPTED_BATCHES.reduce((a, b) => a + b, 0);
const RECORDS = ACCEPTED_BATCHES.reduce((n, size) => n + Math.ceil(size / PER_RECORD), 0);
const MAX_POINTS_PER_REQUEST = 2000;
const TOO_MANY = MAX_POINTS_PER_REQUEST + 1;
const PARTITIONS = settingDefault('KAFKA_TOPIC_PARTITIONS');
const REQUEST_ID = 'metrics-e2e-request-1';

function readings(n: number, sensorId: string): unknown[] {
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => ({ sensorId, metric: 'temperature', value: i, ts: now - 60_000 - i }));
}

/** POSTs readings to the api's ingest route. */
function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return postJson(`${url}/v1/points`, body, headers);
}

describe('GET /metrics on the api and the worker agree with what a run did', () => {
  const env = isolatedEnv('metrics');
  let api: FunnelProcess;
  let worker: FunnelProcess;
  let apiScrape: Scrape;
  let workerScrape: Scrape;
  let contentType: string | null;
  let generatedRequestId: string | null;

  beforeAll(async () => {
    api = (
      await FunnelProcess.onFreePort('api', { ...env, MAX_POINTS_PER_REQUEST: String(MAX_POINTS_PER_REQUEST) })
    ).start();
    worker = (await FunnelProcess.onFreePort('worker', env)).start();
    await Promise.all([api.waitReady(), worker.waitReady()]);

    for (const [i, size] of ACCEPTED_BATCHES.entries()) {
      const res = await post(api.url, readings(size, `sensor-${i}`), i === 0 ? { 'x-request-id': REQUEST_ID } : {});
      expect(res).toMatchObject({ status: 202, json: { accepted: size } });
      if (i === 1) generatedRequestId = res.headers.get('x-request-id');
    }
    // 400: one reading with a bad value, one with an unknown field, two valid ones refused with them.
    const mixed = [
      ...readings(2, 'ok'),
      { sensorId: 'x', metric: 'm', value: 'hot' },
      { sensorId: 'x', metric: 'm', value: 1, colour: 'red' },
    ];
    expect((await post(api.url, mixed)).status).toBe(400);
    // 400: a timestamp a day in the future.
    expect((await post(api.url, [{ sensorId: 'x', metric: 'm', value: 1, ts: Date.now() + 86_400_000 }])).status).toBe(
      400,
    );
    // 413: one reading too many.
    expect((await post(api.url, readings(TOO_MANY, 'many'))).status).toBe(413);

    // A record that is not a readings record: the worker sends it to the dead-letter topic.
    const producer = testKafka('metrics-e2e').producer();
    await producer.connect();
    await producer.send({ topic: env.KAFKA_TOPIC, acks: -1, messages: [{ value: 'this is not JSON' }] });
    await producer.disconnect();

    const mongo = new MongoClient(env.MONGODB_URI, { serverSelectionTimeoutMS: 5000 });
    try {
      await pollUntil(
        `${ACCEPTED} readings stored`,
        async () => (await mongo.db().collection('points').countDocuments()) === ACCEPTED,
        { timeoutMs: 60_000 },
      );
    } finally {
      await mongo.close();
    }
    // Written, dead-lettered and committed: the counters and the lag have settled.
    await pollUntil(
      'the worker to report every reading written, the dead letter, and no lag',
      async () => {
        const scrape = await Scrape.of(`${worker.url}/metrics`);
        return (
          scrape.value('funnel_readings_written_total') === ACCEPTED &&
          scrape.value('funnel_dead_letters_total') === 1 &&
          scrape.all('funnel_consumer_lag').length === PARTITIONS &&
          scrape.sum('funnel_consumer_lag') === 0
        );
      },
      { timeoutMs: 30_000 },
    );
    const res = await fetch(`${api.url}/metrics`);
    contentType = res.headers.get('content-type');
    apiScrape = Scrape.parse(await res.text());
    workerScrape = await Scrape.of(`${worker.url}/metrics`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
  }, 40_000);

  it('serves the Prometheus text format', () => {
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts readings accepted = consumed = written = what the test posted', () => {
    expect(apiScrape.value('funnel_readings_accepted_total')).toBe(ACCEPTED);
    expect(workerScrape.value('funnel_readings_consumed_total')).toBe(ACCEPTED);
    expect(workerScrape.value('funnel_readings_written_total')).toBe(ACCEPTED);
    expect(workerScrape.value('funnel_duplicates_dropped_total')).toBe(0);
    expect(workerScrape.value('funnel_buffer_readings')).toBe(0);
  });

  it('counts Kafka records consumed, the dead letter among them', () => {
    expect(workerScrape.value('funnel_records_consumed_total')).toBe(RECORDS + 1);
    expect(workerScrape.value('funnel_dead_letters_total')).toBe(1);
  });

  it('counts rejected readings by reason', () => {
    const rejected = (reason: string) => apiScrape.value('funnel_readings_rejected_total', { reason });
    expect(rejected('invalid_value')).toBe(1);
    expect(rejected('unknown_field')).toBe(1);
    expect(rejected('in_invalid_request')).toBe(2);
    expect(rejected('invalid_ts')).toBe(1);
    expect(rejected('too_many')).toBe(TOO_MANY);
    expect(rejected('backpressure')).toBe(0);
    expect(rejected('kafka_unavailable')).toBe(0);
    expect(apiScrape.sum('funnel_readings_rejected_total')).toBe(1 + 1 + 2 + 1 + TOO_MANY);
  });

  it('counts and times HTTP requests by route and status', () => {
    const ingest = (status: string) => ({ method: 'POST', route: '/v1/points', status });
    expect(apiScrape.value('funnel_http_requests_total', ingest('202'))).toBe(ACCEPTED_BATCHES.length);
    expect(apiScrape.value('funnel_http_requests_total', ingest('400'))).toBe(2);
    expect(apiScrape.value('funnel_http_requests_total', ingest('413'))).toBe(1);
    for (const status of ['202', '400', '413']) {
      const count = apiScrape.value('funnel_http_requests_total', ingest(status));
      expect(apiScrape.value('funnel_http_request_duration_seconds_count', ingest(status))).toBe(count);
      expect(apiScrape.value('funnel_http_request_duration_seconds_bucket', { ...ingest(status), le: '+Inf' })).toBe(
        count,
      );
    }
    // The worker's own HTTP server (readiness probes, scrapes) is counted on its side.
    expect(workerScrape.sum('funnel_http_requests_total', { route: '/health/ready', status: '200' })).toBeGreaterThan(
      0,
    );
  });

  it('times one Kafka produce call per accepted request sent one at a time, none failed, none refused', () => {
    expect(apiScrape.value('funnel_kafka_send_duration_seconds_count', { result: 'ok' })).toBe(ACCEPTED_BATCHES.length);
    expect(apiScrape.value('funnel_kafka_send_duration_seconds_count', { result: 'error' })).toBe(0);
    expect(apiScrape.value('funnel_kafka_send_failures_total')).toBe(0);
    expect(apiScrape.value('funnel_backpressure_refusals_total')).toBe(0);
    expect(apiScrape.value('funnel_kafka_inflight_readings')).toBe(0);
  });

  it('records flushes: count, size (summing to the readings written) and duration', () => {
    const flushes = workerScrape.value('funnel_flushes_total');
    expect(flushes).toBeGreaterThanOrEqual(1);
    expect(workerScrape.value('funnel_flush_size_readings_count')).toBe(flushes);
    expect(workerScrape.value('funnel_flush_size_readings_sum')).toBe(ACCEPTED);
    expect(workerScrape.value('funnel_flush_duration_seconds_count', { result: 'ok' })).toBe(flushes);
    expect(workerScrape.value('funnel_write_errors_total')).toBe(0);
    expect(workerScrape.value('funnel_write_retries_total')).toBe(0);
  });

  it('observes end-to-end latency once per reading written, in cumulative buckets', () => {
    expect(workerScrape.value('funnel_end_to_end_latency_seconds_count')).toBe(ACCEPTED);
    const buckets = workerScrape.all('funnel_end_to_end_latency_seconds_bucket');
    expect(buckets.at(-1)).toMatchObject({ labels: { le: '+Inf' }, value: ACCEPTED });
    for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    expect(workerScrape.value('funnel_end_to_end_latency_seconds_sum')).toBeGreaterThan(0);
  });

  it('reports consumer lag per partition (zero once everything is committed)', () => {
    const lags = workerScrape.all('funnel_consumer_lag');
    expect(lags.map((l) => l.labels.partition).sort()).toEqual(['0', '1', '2']);
    expect(lags.every((l) => l.labels.topic === env.KAFKA_TOPIC && l.value === 0)).toBe(true);
  });

  it('exports build info with the role, and the runtime metrics, on both', () => {
    expect(apiScrape.all('funnel_build_info')).toEqual([
      {
        name: 'funnel_build_info',
        labels: expect.objectContaining({ role: 'api', version: FUNNEL_VERSION }),
        value: 1,
      },
    ]);
    expect(workerScrape.all('funnel_build_info')).toEqual([
      {
        name: 'funnel_build_info',
        labels: expect.objectContaining({ role: 'worker', version: FUNNEL_VERSION }),
        value: 1,
      },
    ]);
    for (const scrape of [apiScrape, workerScrape]) {
      expect(scrape.has('process_cpu_user_seconds_total')).toBe(true);
      expect(scrape.has('nodejs_heap_size_used_bytes')).toBe(true);
      expect(scrape.has('nodejs_eventloop_lag_seconds')).toBe(true);
    }
  });

  it('keeps api metrics off the worker and worker metrics off the api', () => {
    expect(workerScrape.has('funnel_readings_accepted_total')).toBe(false);
    expect(apiScrape.has('funnel_readings_written_total')).toBe(false);
  });

  it('logs one JSON line per ingest request with its request id and role', () => {
    const lines = jsonLines(api);
    expect(lines.every((line) => line.role === 'api')).toBe(true);
    const completed = (id: string | null) =>
      lines.filter((line) => line.msg === 'request completed' && line.req?.id === id && line.reqId === id);
    expect(
      lines.filter((line) => line.msg === 'request completed' && line.clientRequestId === REQUEST_ID),
    ).toHaveLength(1);
    expect(generatedRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(completed(generatedRequestId)).toHaveLength(1);
    // No line per reading: fewer lines than requests plus boot lines, far fewer than readings.
    expect(lines.length).toBeLessThan(200);
  });
});
