// OTLP/HTTP metrics end to end: the real OpenTelemetry JS SDK exports through its protobuf and its JSON OTLP
// exporters to /v1/otlp/metrics; gauges and sums are stored as readings (values equal what was recorded),
// histograms are not; a hand-written OTLP/JSON export gets partial_success.rejected_data_points.
import { describe, expect, it } from '@jest/globals';
import { OTLPMetricExporter as HttpExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

import { pollUntil } from '@funnel/dev-infra';

import { isolatedEnv, ADMIN_AUTH } from './support/env.js';
import { processForSuite } from './support/funnel-process.js';
import { workerCaughtUp } from './support/kafka.js';
import { storedCount, withMongo } from './support/mongo.js';

interface StoredReading {
  value: number;
  meta: { sensorId: string; metric: string; tags?: Record<string, string> };
}

describe('OTLP/HTTP metrics from the OpenTelemetry SDK (role all)', () => {
  const env = isolatedEnv('otlp');
  const suite = processForSuite('all', env);

  const stored = (sensorId: string) =>
    withMongo(env.MONGODB_URI, (db) =>
      db.collection<StoredReading>('points').find({ 'meta.sensorId': sensorId }).sort({ ts: 1 }).toArray(),
    );

  for (const [label, Exporter] of [
    ['protobuf', ProtoExporter],
    ['JSON', HttpExporter],
  ] as const) {
    it(`stores gauges and sums exported as ${label}, not histograms`, async () => {
      const sensor = `otel-${label.toLowerCase()}`;
      const reader = new PeriodicExportingMetricReader({
        exporter: new Exporter({ url: `${suite().url}/v1/otlp/metrics`, headers: { ...ADMIN_AUTH } }),
        exportIntervalMillis: 3_600_000, // exports only when flushed
      });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': 'funnel-e2e', 'host.name': sensor }),
        readers: [reader],
      });
      try {
        await exportAndCheck(provider, reader, sensor, label);
      } finally {
        await provider.shutdown(); // while Funnel is up: it exports once more
      }
    }, 60_000);
  }

  const exportAndCheck = async (
    provider: MeterProvider,
    reader: PeriodicExportingMetricReader,
    sensor: string,
    label: string,
  ) => {
    const meter = provider.getMeter('e2e');
    const gauge = meter.createGauge('room.temperature');
    const counter = meter.createCounter('door.openings');
    const histogram = meter.createHistogram('request.duration');
    gauge.record(21.5, { room: 'a' });
    gauge.record(19.25, { room: 'b' });
    counter.add(3, { door: 'front' });
    histogram.record(12);
    await reader.forceFlush(); // rejects unless the export succeeded
    gauge.record(22, { room: 'a' });
    counter.add(4, { door: 'front' });
    await reader.forceFlush();

    await pollUntil(
      `${label} readings stored`,
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': sensor })) >= 6,
    );
    await workerCaughtUp(env);
    const readings = await stored(sensor);
    const series = (metric: string, tag: string, value: string) =>
      readings.filter((r) => r.meta.metric === metric && r.meta.tags?.[tag] === value).map((r) => r.value);
    // Gauges export their last value each time, sums (cumulative) their running total.
    expect(series('room.temperature', 'room', 'a')).toEqual([21.5, 22]);
    expect(series('room.temperature', 'room', 'b')).toEqual([19.25, 19.25]);
    expect(series('door.openings', 'door', 'front')).toEqual([3, 7]);
    expect(readings.filter((r) => r.meta.metric === 'request.duration')).toEqual([]);
    expect(readings).toHaveLength(6);
  };

  it('reports rejected points in partial_success and stores the rest (OTLP/JSON)', async () => {
    const nanos = `${Date.now() - 60_000}000000`;
    const point = (value: number, attributes: object[] = []) => ({ timeUnixNano: nanos, asDouble: value, attributes });
    const body = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'host.name', value: { stringValue: 'otlp-json' } }] },
          scopeMetrics: [
            {
              metrics: [
                { name: 'ok.gauge', gauge: { dataPoints: [point(1), { timeUnixNano: nanos, asInt: '5' }] } },
                { name: 'bad/name', gauge: { dataPoints: [point(2)] } },
                { name: 'hist', histogram: { dataPoints: [{ count: '1' }, { count: '2' }] } },
                { name: 'gap', gauge: { dataPoints: [{ timeUnixNano: nanos, asDouble: 1, flags: 1 }] } },
              ],
            },
          ],
        },
      ],
    };
    const res = await fetch(`${suite().url}/v1/otlp/metrics`, {
      method: 'POST',
      headers: { ...ADMIN_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedDataPoints).toBe('4');
    expect(answer.partialSuccess.errorMessage).toMatch(/histogram points are not stored/);
    expect(answer.partialSuccess.errorMessage).toMatch(/metric/);
    await pollUntil(
      'otlp-json stored',
      async () => (await storedCount(env.MONGODB_URI, { 'meta.sensorId': 'otlp-json' })) >= 2,
    );
    await workerCaughtUp(env);
    expect((await stored('otlp-json')).map((r) => [r.meta.metric, r.value])).toEqual([
      ['ok.gauge', 1],
      ['ok.gauge', 5],
    ]);

    const post = (type: string, payload: string | Buffer) =>
      fetch(`${suite().url}/v1/otlp/metrics`, {
        method: 'POST',
        headers: { ...ADMIN_AUTH, 'content-type': type },
        body: payload,
      });
    expect((await post('application/x-protobuf', Buffer.from([0x0a, 0xff, 0xff]))).status).toBe(400);
    expect((await post('text/plain', 'x')).status).toBe(415);
    expect((await post('application/json', '[]')).status).toBe(400);
  }, 60_000);
});
