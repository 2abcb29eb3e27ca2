/** Maps a decoded OTLP metrics export onto Funnel readings: gauges and sums become readings; the rest is rejected. */
import { timestampMs } from './line-protocol.js';
import type { OtlpAnyValue, OtlpKeyValue, OtlpNumberPoint, OtlpRequest } from './otlp-metrics.proto.js';

/** A reading in Funnel's shape, before validation. */
export interface OtlpReading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

export interface OtlpMapped {
  readings: OtlpReading[];
  /** Data points that are not readings, and why (one line per reason). */
  rejected: number;
  reasons: Set<string>;
}

/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, not a value. */
const NO_RECORDED_VALUE = 1;

function text(value: OtlpAnyValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  if (value.boolValue !== undefined) return String(value.boolValue);
  return undefined;
}

function attribute(attributes: OtlpKeyValue[] | undefined, keys: readonly string[]): [string, string] | undefined {
  for (const key of keys) {
    const found = attributes?.find((a) => a.key === key);
    const value = text(found?.value);
    if (value !== undefined) return [key, value];
  }
  return undefined;
}

/**
 * Gauge and sum points become readings: metric = the metric's name, sensorId = the first of `sensorKeys` on the
 * point's attributes, else on the resource's; the point's other attributes become tags. Histograms,
 * exponential histograms and summaries are rejected (Funnel stores numbers, not distributions), as are points
 * without a value, a timestamp or a sensor attribute.
 */
export function readingsOfExport(request: OtlpRequest, sensorKeys: readonly string[], now: number): OtlpMapped {
  const mapped: OtlpMapped = { readings: [], rejected: 0, reasons: new Set() };
  const reject = (count: number, reason: string) => {
    if (count <= 0) return;
    mapped.rejected += count;
    mapped.reasons.add(reason);
  };
  for (const resourceMetrics of request.resourceMetrics ?? []) {
    const fromResource = attribute(resourceMetrics.resource?.attributes, sensorKeys);
    for (const scope of resourceMetrics.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const name = metric.name ?? '';
        if (metric.data === 'gauge' || metric.data === 'sum') {
          for (const point of metric[metric.data]?.dataPoints ?? []) {
            const reading = readingOf(name, point, sensorKeys, fromResource, now, reject);
            if (reading !== undefined) mapped.readings.push(reading);
          }
        } else if (metric.data !== undefined) {
          reject(
            metric[metric.data]?.dataPoints?.length ?? 0,
            `${metric.data} points are not stored (Funnel stores gauges and sums)`,
          );
        }
      }
    }
  }
  return mapped;
}

function readingOf(
  name: string,
  point: OtlpNumberPoint,
  sensorKeys: readonly string[],
  fromResource: [string, string] | undefined,
  now: number,
  reject: (count: number, reason: string) => void,
): OtlpReading | undefined {
  if (((point.flags ?? 0) & NO_RECORDED_VALUE) !== 0) {
    reject(1, 'points flagged "no recorded value" carry no value');
    return undefined;
  }
  const value = point.asDouble ?? (point.asInt !== undefined ? Number(point.asInt) : undefined);
  if (value === undefined) {
    reject(1, 'a data point has no value');
    return undefined;
  }
  const sensor = attribute(point.attributes, sensorKeys) ?? fromResource;
  if (sensor === undefined) {
    reject(1, `a data point has no sensor attribute (one of ${sensorKeys.join(', ')}: OTLP_SENSOR_ATTRIBUTES)`);
    return undefined;
  }
  let ts = now;
  const nanos = point.timeUnixNano;
  if (nanos !== undefined && nanos !== '0') {
    const ms = timestampMs(String(nanos), 'ns');
    if (ms === undefined) {
      reject(1, 'a data point has a time_unix_nano out of range');
      return undefined;
    }
    ts = ms;
  }
  const reading: OtlpReading = { sensorId: sensor[1], metric: name, value, ts };
  for (const kv of point.attributes ?? []) {
    const tag = text(kv.value);
    if (kv.key === undefined || kv.key === sensor[0] || tag === undefined) continue;
    reading.tags ??= {};
    reading.tags[kv.key] = tag;
  }
  return reading;
}
