/**
 * The compact encoding of a PointsRecord on Kafka: the api writes it once, the worker reads it without a JSON
 * parse. Records in JSON (the earlier encoding) are still read by decodePointsRecord.
 *
 * Layout (little-endian): a header of 24 bytes, then columns of n readings, then a table of distinct strings.
 *   0  0x00 (Nest's Kafka parser hands a value starting with a zero byte over as a Buffer, unparsed)
 *   1  0x46 ('F'), 2 format version 2, 3 flags (1 = idem, 2 = exactTs)
 *   4  n (uint32), 8 receivedAt (float64), 16 strings in the table (uint32), 20 reserved (0)
 *   24 value float64[n], ts float64[n], then uint32[n] each: sensorId, metric, id prefix (string indexes), id
 *      number (NO_NUMBER: the prefix is the whole id), tags (NO_TAGS, or the index of the tags' JSON)
 *   then each string: byte length (uint16) and UTF-8 bytes.
 * An id `<prefix><decimal>` (the api's `${idPrefix}${index}`) is kept as its prefix's index and the number.
 */
import type { PointsRecord } from './points-record.js';

export const COMPACT_FORMAT = 2;
const MAGIC_0 = 0x00;
const MAGIC_1 = 0x46;
const HEADER_BYTES = 24;
/** Bytes per reading in the columns: two float64 and five uint32. */
const COLUMN_BYTES = 36;
export const NO_NUMBER = 0xffffffff;
export const NO_TAGS = 0xffffffff;
const FLAG_IDEM = 1;
const FLAG_EXACT_TS = 2;
/** Longest id number kept apart: 9 digits, always below NO_NUMBER. */
const MAX_ID_DIGITS = 9;

/** True when `value` starts as a compact record does (whatever its version). */
export function isCompactRecord(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && value.length >= 2 && value[0] === MAGIC_0 && value[1] === MAGIC_1;
}

/** The number `id` ends with after `from`, if it is 1-9 decimal digits without a leading zero; else NO_NUMBER. */
function trailingNumber(id: string, from: number): number {
  const digits = id.length - from;
  if (digits < 1 || digits > MAX_ID_DIGITS || (digits > 1 && id.charCodeAt(from) === 48)) return NO_NUMBER;
  let value = 0;
  for (let j = from; j < id.length; j++) {
    const d = id.charCodeAt(j) - 48;
    if (d < 0 || d > 9) return NO_NUMBER;
    value = value * 10 + d;
  }
  return value;
}

/** Encodes a record compactly (see the layout above). */
export function encodePointsRecord(record: PointsRecord): Buffer {
  const points = record.points;
  const n = points.length;
  const strings: string[] = [];
  const indexOf = new Map<string, number>();
  const intern = (s: string): number => {
    let i = indexOf.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      indexOf.set(s, i);
    }
    return i;
  };
  const columns = new ArrayBuffer(n * COLUMN_BYTES);
  const values = new Float64Array(columns, 0, n);
  const times = new Float64Array(columns, 8 * n, n);
  const refs = new Uint32Array(columns, 16 * n, 5 * n);
  let prefix = '';
  let prefixIndex = -1;
  let tags: Record<string, string> | undefined;
  let tagsIndex = NO_TAGS;
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    values[i] = p.value;
    times[i] = p.ts;
    refs[i] = intern(p.sensorId);
    refs[n + i] = intern(p.metric);
    const id = p.id;
    // Consecutive readings of one request share the prefix: reuse it when it still matches.
    let number = prefixIndex >= 0 && id.startsWith(prefix) ? trailingNumber(id, prefix.length) : NO_NUMBER;
    if (number === NO_NUMBER) {
      const colon = id.lastIndexOf(':');
      number = colon < 0 ? NO_NUMBER : trailingNumber(id, colon + 1);
      if (number === NO_NUMBER) {
        refs[2 * n + i] = intern(id);
        refs[3 * n + i] = NO_NUMBER;
        prefixIndex = -1;
      } else {
        prefix = id.slice(0, colon + 1);
        prefixIndex = intern(prefix);
      }
    }
    if (number !== NO_NUMBER) {
      refs[2 * n + i] = prefixIndex;
      refs[3 * n + i] = number;
    }
    if (p.tags === undefined) {
      refs[4 * n + i] = NO_TAGS;
    } else {
      if (p.tags !== tags) {
        tags = p.tags;
        tagsIndex = intern(JSON.stringify(p.tags));
      }
      refs[4 * n + i] = tagsIndex;
    }
  }
  let total = HEADER_BYTES + n * COLUMN_BYTES;
  const lengths = strings.map((s) => {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes > 0xffff) throw new RangeError(`a string of ${bytes} bytes does not fit a compact record`);
    total += 2 + bytes;
    return bytes;
  });
  const out = Buffer.allocUnsafe(total);
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = COMPACT_FORMAT;
  out[3] = (record.idem ? FLAG_IDEM : 0) | (record.idem && record.exactTs ? FLAG_EXACT_TS : 0);
  out.writeUInt32LE(n, 4);
  out.writeDoubleLE(record.receivedAt, 8);
  out.writeUInt32LE(strings.length, 16);
  out.writeUInt32LE(0, 20);
  out.set(new Uint8Array(columns), HEADER_BYTES);
  let at = HEADER_BYTES + n * COLUMN_BYTES;
  for (let i = 0; i < strings.length; i++) {
    out.writeUInt16LE(lengths[i]!, at);
    out.write(strings[i]!, at + 2, lengths[i], 'utf8');
    at += 2 + lengths[i]!;
  }
  return out;
}

/** The parts of a compact record, checked for structure only (decodePointsRecord checks the readings). */
export interface CompactParts {
  receivedAt: number;
  idem: boolean;
  exactTs: boolean;
  n: number;
  values: Float64Array;
  times: Float64Array;
  /** sensorId, metric, id prefix, id number, tags: n entries each, in that order. */
  refs: Uint32Array;
  strings: string[];
}

/** Splits a compact record into its columns and strings; a string saying what is wrong when it is malformed. */
export function compactParts(value: Buffer): CompactParts | string {
  if (value.length < HEADER_BYTES) return 'compact record is truncated';
  if (value[2] !== COMPACT_FORMAT) return `unsupported compact record format ${value[2]}`;
  const n = value.readUInt32LE(4);
  const receivedAt = value.readDoubleLE(8);
  const count = value.readUInt32LE(16);
  if (value.length < HEADER_BYTES + n * COLUMN_BYTES) return 'compact record is truncated';
  // Copied out: the value is a slice of a fetch response at any offset, and typed arrays need alignment.
  const columns = new Uint8Array(n * COLUMN_BYTES);
  columns.set(value.subarray(HEADER_BYTES, HEADER_BYTES + n * COLUMN_BYTES));
  const strings: string[] = [];
  let at = HEADER_BYTES + n * COLUMN_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + 2 > value.length) return 'compact record is truncated';
    const bytes = value.readUInt16LE(at);
    if (at + 2 + bytes > value.length) return 'compact record is truncated';
    strings.push(value.toString('utf8', at + 2, at + 2 + bytes));
    at += 2 + bytes;
  }
  if (at !== value.length) return 'compact record has bytes after its strings';
  const idem = (value[3]! & FLAG_IDEM) !== 0;
  return {
    receivedAt,
    idem,
    exactTs: idem && (value[3]! & FLAG_EXACT_TS) !== 0,
    n,
    values: new Float64Array(columns.buffer, 0, n),
    times: new Float64Array(columns.buffer, 8 * n, n),
    refs: new Uint32Array(columns.buffer, 16 * n, 5 * n),
    strings,
  };
}
