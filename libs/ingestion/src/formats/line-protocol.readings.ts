/** Maps parsed line-protocol lines onto Funnel readings: metric, sensorId and tags per the configured mapping. */
import type { LineProblem, Precision, ProtocolLine } from './line-protocol.js';
import { timestampMs } from './line-protocol.js';

/** How a line's parts become readings (settings INFLUX_DEFAULT_MEASUREMENT, INFLUX_SENSOR_TAGS). */
export interface LineMapping {
  /** Lines of this measurement name their metrics by the field alone. */
  defaultMeasurement: string;
  /** Tag keys tried in order for the sensorId; the one used is not kept among the tags. */
  sensorTags: readonly string[];
}

/** A reading in Funnel's shape, before validation, with the line it came from. */
export interface LineReading {
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}

export interface MappedLines {
  readings: LineReading[];
  /** The line number of each reading, by index. */
  lineOf: number[];
  problems: LineProblem[];
  /** True when every line carried its own timestamp (the body then names its readings completely). */
  allTimestamped: boolean;
}

/**
 * One reading per numeric field of each line: metric `<measurement>.<field>` (the field alone for the default
 * measurement), sensorId from the first of `sensorTags` present, the other tags as tags, ts at `precision`
 * (`now` when absent). A line without a sensor tag or with an unusable timestamp is a problem.
 */
export function readingsOf(
  lines: readonly ProtocolLine[],
  mapping: LineMapping,
  precision: Precision,
  now: number,
): MappedLines {
  const readings: LineReading[] = [];
  const lineOf: number[] = [];
  const problems: LineProblem[] = [];
  let allTimestamped = true;
  for (const parsed of lines) {
    let ts = now;
    if (parsed.timestamp === undefined) {
      allTimestamped = false;
    } else {
      const ms = timestampMs(parsed.timestamp, precision);
      if (ms === undefined) {
        problems.push({
          line: parsed.line,
          reason: `timestamp ${parsed.timestamp} is out of range at precision ${precision}`,
        });
        continue;
      }
      ts = ms;
    }
    let sensorId: string | undefined;
    let sensorTag = '';
    // Plain loops: this runs for every line.
    for (let k = 0; k < mapping.sensorTags.length && sensorId === undefined; k++) {
      const key = mapping.sensorTags[k]!;
      for (const [tag, value] of parsed.tags) {
        if (tag === key) {
          sensorId = value;
          sensorTag = key;
          break;
        }
      }
    }
    if (sensorId === undefined) {
      problems.push({
        line: parsed.line,
        reason: `no sensor tag: the line needs one of the tags ${mapping.sensorTags.map((t) => `"${t}"`).join(', ')} (INFLUX_SENSOR_TAGS)`,
      });
      continue;
    }
    let tags: Record<string, string> | undefined;
    for (const [key, value] of parsed.tags) {
      if (key === sensorTag) continue;
      tags ??= {};
      tags[key] = value;
    }
    const prefix = parsed.measurement === mapping.defaultMeasurement ? '' : `${parsed.measurement}.`;
    for (const [field, value] of parsed.fields) {
      const reading: LineReading = { sensorId, metric: prefix + field, value, ts };
      if (tags !== undefined) reading.tags = tags;
      readings.push(reading);
      lineOf.push(parsed.line);
    }
  }
  return { readings, lineOf, problems, allTimestamped };
}
