/** Maps parsed line-protocol lines onto Funnel readings: metric, sensorId and tags per the configured mapping. */
import type { LineProblem, Precision, ProtocolLine, ScannedLine } from './line-protocol.js';
import { scanLineProtocol, scannedLine, timestampMs } from './line-protocol.js';

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
  const mapped = new LineReadings(mapping, precision, now);
  const scanned = scannedLine();
  for (const parsed of lines) {
    scanned.line = parsed.line;
    scanned.measurement = parsed.measurement;
    scanned.tagKeys = parsed.tags.map(([key]) => key);
    scanned.tagValues = parsed.tags.map(([, value]) => value);
    scanned.tagCount = parsed.tags.length;
    scanned.fieldKeys = parsed.fields.map(([key]) => key);
    scanned.fieldValues = parsed.fields.map(([, value]) => value);
    scanned.fieldCount = parsed.fields.length;
    scanned.timestamp = parsed.timestamp;
    mapped.add(scanned);
  }
  return mapped.result();
}

/**
 * The readings of a whole body as readingsOf(parseLineProtocol(body).lines) gives them, with the problems of
 * both, straight from the scanner: no object per line or tag (this is the ingest path's).
 */
export function readingsOfBody(body: string, mapping: LineMapping, precision: Precision, now: number): MappedLines {
  const mapped = new LineReadings(mapping, precision, now);
  scanLineProtocol(
    body,
    (line) => mapped.add(line),
    (problem) => mapped.problems.push(problem),
  );
  return mapped.result();
}

/** Readings collected line by line (see readingsOf). */
class LineReadings {
  readonly readings: LineReading[] = [];
  readonly lineOf: number[] = [];
  readonly problems: LineProblem[] = [];
  private allTimestamped = true;

  constructor(
    private readonly mapping: LineMapping,
    private readonly precision: Precision,
    private readonly now: number,
  ) {}

  add(parsed: ScannedLine): void {
    const { mapping, precision } = this;
    let ts = this.now;
    if (parsed.timestamp === undefined) {
      this.allTimestamped = false;
    } else {
      const ms = timestampMs(parsed.timestamp, precision);
      if (ms === undefined) {
        this.problems.push({
          line: parsed.line,
          reason: `timestamp ${parsed.timestamp} is out of range at precision ${precision}`,
        });
        return;
      }
      ts = ms;
    }
    let sensor = -1;
    // Plain loops: this runs for every line.
    for (let k = 0; k < mapping.sensorTags.length && sensor < 0; k++) {
      const key = mapping.sensorTags[k]!;
      for (let t = 0; t < parsed.tagCount; t++) {
        if (parsed.tagKeys[t] === key) {
          sensor = t;
          break;
        }
      }
    }
    if (sensor < 0) {
      this.problems.push({
        line: parsed.line,
        reason: `no sensor tag: the line needs one of the tags ${mapping.sensorTags.map((t) => `"${t}"`).join(', ')} (INFLUX_SENSOR_TAGS)`,
      });
      return;
    }
    const sensorId = parsed.tagValues[sensor]!;
    const sensorTag = parsed.tagKeys[sensor]!;
    let tags: Record<string, string> | undefined;
    for (let t = 0; t < parsed.tagCount; t++) {
      const key = parsed.tagKeys[t]!;
      if (key === sensorTag) continue;
      tags ??= {};
      tags[key] = parsed.tagValues[t]!;
    }
    const prefix = parsed.measurement === mapping.defaultMeasurement ? '' : `${parsed.measurement}.`;
    for (let f = 0; f < parsed.fieldCount; f++) {
      const reading: LineReading = {
        sensorId,
        metric: prefix + parsed.fieldKeys[f]!,
        value: parsed.fieldValues[f]!,
        ts,
      };
      if (tags !== undefined) reading.tags = tags;
      this.readings.push(reading);
      this.lineOf.push(parsed.line);
    }
  }

  result(): MappedLines {
    const { readings, lineOf, problems, allTimestamped } = this;
    return { readings, lineOf, problems, allTimestamped };
  }
}
