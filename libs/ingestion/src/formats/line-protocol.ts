/**
 * InfluxDB line protocol, parsed into readings' raw parts: `measurement[,tag=v...] field=v[,field=v...] [timestamp]`.
 * Written here (no maintained parser is published on npm); the rules follow the InfluxDB line-protocol reference.
 */

/** One parsed line: its 1-based line number in the body, names unescaped, numeric fields only. */
export interface ProtocolLine {
  line: number;
  measurement: string;
  /** Tags in the order written. */
  tags: [string, string][];
  /** Numeric fields (float, integer `42i`, unsigned `42u`) as numbers, in the order written. */
  fields: [string, number][];
  /** The timestamp's digits as written (an optional `-` first), or undefined when the line has none. */
  timestamp?: string;
}

/** Why one line could not be used. */
export interface LineProblem {
  line: number;
  reason: string;
}

export interface ParsedBody {
  lines: ProtocolLine[];
  problems: LineProblem[];
}

const BACKSLASH = 92;
const COMMA = 44;
const SPACE = 32;
const EQUALS = 61;
const QUOTE = 34;
const TAB = 9;

/** A line's problem, thrown inside the parser and caught per line. */
class LineError extends Error {}

const FLOAT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^-?\d+i$/;
const UNSIGNED = /^\d+u$/;
const BOOLEAN = /^(?:t|T|true|True|TRUE|f|F|false|False|FALSE)$/;
const TIMESTAMP = /^-?\d+$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Parses a whole body. Blank lines and comments (`#` first, after optional whitespace) are skipped; each
 * other line yields a `ProtocolLine` or a problem naming its line number. Lines end at `\n` (a `\r` before it is
 * dropped); a newline cannot be escaped, as in InfluxDB.
 */
export function parseLineProtocol(body: string): ParsedBody {
  const lines: ProtocolLine[] = [];
  const problems: LineProblem[] = [];
  let start = 0;
  let number = 0;
  while (start <= body.length) {
    let end = body.indexOf('\n', start);
    if (end === -1) end = body.length;
    number++;
    let last = end;
    if (last > start && body.charCodeAt(last - 1) === 13) last--;
    let first = start;
    while (first < last && isBlank(body.charCodeAt(first))) first++;
    if (first < last && body.charCodeAt(first) !== 35 /* # */) {
      try {
        lines.push(parseLine(body, first, last, number));
      } catch (error) {
        if (!(error instanceof LineError)) throw error;
        problems.push({ line: number, reason: error.message });
      }
    }
    start = end + 1;
  }
  return { lines, problems };
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** Cursor over one line: `at` is the next unread position, `end` the line's end (exclusive). */
interface Cursor {
  text: string;
  at: number;
  end: number;
}

function parseLine(text: string, start: number, end: number, line: number): ProtocolLine {
  const cursor: Cursor = { text, at: start, end };
  // Measurement: commas and spaces escaped.
  const measurement = readName(cursor, MEASUREMENT_STOPS, 'measurement');
  const tags: [string, string][] = [];
  while (cursor.at < end && text.charCodeAt(cursor.at) === COMMA) {
    cursor.at++;
    const key = readName(cursor, KEY_STOPS, 'tag key');
    expect(cursor, EQUALS, `tag key "${key}" must be followed by "="`);
    const value = readName(cursor, TAG_VALUE_STOPS, `value of tag "${key}"`);
    tags.push([key, value]);
  }
  skipSpaces(cursor, 'a field set after the measurement and tags');
  const fields: [string, number][] = [];
  for (;;) {
    const key = readName(cursor, KEY_STOPS, 'field key');
    expect(cursor, EQUALS, `field key "${key}" must be followed by "="`);
    if (fields.some(([seen]) => seen === key)) throw new LineError(`field "${key}" appears twice`);
    fields.push([key, readFieldValue(cursor, key)]);
    if (cursor.at < end && text.charCodeAt(cursor.at) === COMMA) {
      cursor.at++;
      continue;
    }
    break;
  }
  const parsed: ProtocolLine = { line, measurement, tags, fields };
  if (cursor.at < end) {
    skipSpaces(cursor, 'a timestamp');
    let last = end;
    while (last > cursor.at && isBlank(text.charCodeAt(last - 1))) last--;
    const timestamp = text.slice(cursor.at, last);
    if (!TIMESTAMP.test(timestamp)) {
      throw new LineError(`timestamp ${JSON.stringify(timestamp.slice(0, 40))} must be an integer`);
    }
    parsed.timestamp = timestamp;
  }
  return parsed;
}

/**
 * Characters that end a name, per element (each may appear inside it escaped with a backslash): a measurement
 * ends at a comma or space, keys and tag values also at `=`. A flag, not a Set: this runs for every character.
 */
const MEASUREMENT_STOPS = false;
const KEY_STOPS = true;
const TAG_VALUE_STOPS = KEY_STOPS;

function isStop(code: number, equalsStops: boolean): boolean {
  return code === COMMA || code === SPACE || (equalsStops && code === EQUALS);
}

/**
 * Reads an unquoted name up to an unescaped stop character. `\` before a stop character or a backslash
 * stands for that character; before anything else it is a literal backslash (as InfluxDB reads it).
 */
function readName(cursor: Cursor, stops: boolean, what: string): string {
  const { text, end } = cursor;
  const from = cursor.at;
  let escaped = false;
  let at = from;
  for (; at < end; at++) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH && at + 1 < end) {
      const next = text.charCodeAt(at + 1);
      if (next === BACKSLASH || isStop(next, stops)) {
        escaped = true;
        at++;
      }
      continue;
    }
    if (isStop(code, stops)) break;
  }
  cursor.at = at;
  if (at === from) {
    throw new LineError(at >= end ? `${what} is missing` : `${what} is empty`);
  }
  const raw = text.slice(from, at);
  return escaped ? unescape(raw, stops) : raw;
}

function unescape(raw: string, stops: boolean): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code === BACKSLASH && i + 1 < raw.length) {
      const next = raw.charCodeAt(i + 1);
      if (next === BACKSLASH || isStop(next, stops)) {
        out += raw[i + 1];
        i++;
        continue;
      }
    }
    out += raw[i];
  }
  return out;
}

function expect(cursor: Cursor, code: number, problem: string): void {
  if (cursor.at >= cursor.end || cursor.text.charCodeAt(cursor.at) !== code) throw new LineError(problem);
  cursor.at++;
}

function skipSpaces(cursor: Cursor, next: string): void {
  if (cursor.at >= cursor.end) throw new LineError(`expected ${next}`);
  if (!isBlank(cursor.text.charCodeAt(cursor.at))) {
    throw new LineError(`expected a space before ${next}, found ${JSON.stringify(cursor.text[cursor.at])}`);
  }
  while (cursor.at < cursor.end && isBlank(cursor.text.charCodeAt(cursor.at))) cursor.at++;
  if (cursor.at >= cursor.end) throw new LineError(`expected ${next}`);
}

/** A field value: floats, `42i` and `42u` become numbers; strings and booleans are refused by name. */
function readFieldValue(cursor: Cursor, key: string): number {
  const { text, end } = cursor;
  if (cursor.at < end && text.charCodeAt(cursor.at) === QUOTE) {
    skipString(cursor, key);
    throw new LineError(`field "${key}" is a string; Funnel stores numeric fields only (float, integer, unsigned)`);
  }
  const from = cursor.at;
  let at = from;
  while (at < end) {
    const code = text.charCodeAt(at);
    if (code === COMMA || code === SPACE || code === TAB) break;
    at++;
  }
  cursor.at = at;
  const raw = text.slice(from, at);
  if (raw.length === 0) throw new LineError(`field "${key}" has no value`);
  const head = raw.charCodeAt(0);
  // t, T, f, F: only booleans start so (a float may not), so the regex runs for them only.
  if ((head === 116 || head === 84 || head === 102 || head === 70) && BOOLEAN.test(raw)) {
    throw new LineError(`field "${key}" is a boolean; Funnel stores numeric fields only (float, integer, unsigned)`);
  }
  const last = raw.charCodeAt(raw.length - 1);
  if (last === 105 /* i */) {
    if (!INTEGER.test(raw)) throw new LineError(`field "${key}" has an invalid integer ${quoted(raw)}`);
    const digits = raw.slice(0, -1);
    if (digits.length > 15 && !inRange(BigInt(digits), INT64_MIN, INT64_MAX)) {
      throw new LineError(`field "${key}" integer ${quoted(raw)} is outside the signed 64-bit range`);
    }
    return Number(digits);
  }
  if (last === 117 /* u */) {
    if (!UNSIGNED.test(raw)) throw new LineError(`field "${key}" has an invalid unsigned integer ${quoted(raw)}`);
    const digits = raw.slice(0, -1);
    if (digits.length > 15 && !inRange(BigInt(digits), 0n, UINT64_MAX)) {
      throw new LineError(`field "${key}" unsigned ${quoted(raw)} is outside the unsigned 64-bit range`);
    }
    return Number(digits);
  }
  if (!FLOAT.test(raw)) throw new LineError(`field "${key}" has an invalid number ${quoted(raw)}`);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new LineError(`field "${key}" float ${quoted(raw)} is out of range`);
  return value;
}

function inRange(value: bigint, min: bigint, max: bigint): boolean {
  return value >= min && value <= max;
}

function quoted(raw: string): string {
  return JSON.stringify(raw.slice(0, 40));
}

/** Moves past a double-quoted string field (`\"` and `\\` escaped); a missing closing quote is a problem. */
function skipString(cursor: Cursor, key: string): void {
  const { text, end } = cursor;
  let at = cursor.at + 1;
  while (at < end) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) {
      at += 2;
      continue;
    }
    if (code === QUOTE) {
      cursor.at = at + 1;
      return;
    }
    at++;
  }
  throw new LineError(`string field "${key}" has no closing quote`);
}

/** Epoch-ms multipliers/divisors per precision name accepted by the v2 and the 1.x write endpoints. */
export type Precision = 'ns' | 'us' | 'ms' | 's' | 'm' | 'h';

/** The 1.x names (`n`, `u`) and the v2 names map to one precision. */
export const V2_PRECISIONS: Readonly<Record<string, Precision>> = { ns: 'ns', us: 'us', ms: 'ms', s: 's' };
export const V1_PRECISIONS: Readonly<Record<string, Precision>> = {
  n: 'ns',
  ns: 'ns',
  u: 'us',
  us: 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
};

const MULTIPLIER: Readonly<Record<Precision, number>> = { ns: 0, us: 0, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Epoch milliseconds of a timestamp's digits at `precision` (sub-millisecond digits truncated toward
 * -infinity), or undefined when it is not a safe integer number of milliseconds.
 */
export function timestampMs(digits: string, precision: Precision): number | undefined {
  let ms: number;
  if (precision === 'ns' || precision === 'us') {
    const drop = precision === 'ns' ? 6 : 3;
    const negative = digits.charCodeAt(0) === 45;
    const magnitude = negative ? digits.slice(1) : digits;
    if (magnitude.length <= drop) {
      ms = negative && /[1-9]/.test(magnitude) ? -1 : 0;
    } else {
      const whole = Number(magnitude.slice(0, magnitude.length - drop));
      const rest = magnitude.slice(magnitude.length - drop);
      ms = negative ? -whole - (/[1-9]/.test(rest) ? 1 : 0) : whole;
    }
  } else {
    ms = Number(digits) * MULTIPLIER[precision];
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}
