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

const INTEGER = /^-?\d+i$/;
const UNSIGNED = /^\d+u$/;
const BOOLEAN = /^(?:t|T|true|True|TRUE|f|F|false|False|FALSE)$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * One line as scanLineProtocol leaves it, reused from line to line: the arrays hold `tagCount` tags and
 * `fieldCount` fields (entries past them are stale), so a line costs its strings and no objects or arrays.
 */
export interface ScannedLine {
  line: number;
  measurement: string;
  tagKeys: string[];
  tagValues: string[];
  tagCount: number;
  fieldKeys: string[];
  /** Numeric fields (float, integer `42i`, unsigned `42u`) as numbers. */
  fieldValues: number[];
  fieldCount: number;
  /** The timestamp's digits as written (an optional `-` first), or undefined when the line has none. */
  timestamp: string | undefined;
}

/** An empty ScannedLine, to fill (scanLineProtocol) or to copy a ProtocolLine into. */
export function scannedLine(): ScannedLine {
  return {
    line: 0,
    measurement: '',
    tagKeys: [],
    tagValues: [],
    tagCount: 0,
    fieldKeys: [],
    fieldValues: [],
    fieldCount: 0,
    timestamp: undefined,
  };
}

/**
 * Scans a whole body. Blank lines and comments (`#` first, after optional whitespace) are skipped; each other
 * line is handed to `onLine` (a ScannedLine valid until `onLine` returns) or is a problem naming its line number.
 * Lines end at `\n` (a `\r` before it is dropped); a newline cannot be escaped, as in InfluxDB.
 */
export function scanLineProtocol(
  body: string,
  onLine: (line: ScannedLine) => void,
  onProblem: (problem: LineProblem) => void,
): void {
  const scanned = scannedLine();
  const cursor: Cursor = { text: body, at: 0, end: 0 };
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
      let parsed = false;
      try {
        cursor.at = first;
        cursor.end = last;
        parseLine(cursor, scanned);
        parsed = true;
      } catch (error) {
        if (!(error instanceof LineError)) throw error;
        onProblem({ line: number, reason: error.message });
      }
      if (parsed) {
        scanned.line = number;
        onLine(scanned);
      }
    }
    start = end + 1;
  }
}

/** Parses a whole body into a ProtocolLine per line (scanLineProtocol's lines, copied) and its problems. */
export function parseLineProtocol(body: string): ParsedBody {
  const lines: ProtocolLine[] = [];
  const problems: LineProblem[] = [];
  scanLineProtocol(
    body,
    (l) => {
      const line: ProtocolLine = {
        line: l.line,
        measurement: l.measurement,
        tags: l.tagKeys.slice(0, l.tagCount).map((key, i) => [key, l.tagValues[i]!]),
        fields: l.fieldKeys.slice(0, l.fieldCount).map((key, i) => [key, l.fieldValues[i]!]),
      };
      if (l.timestamp !== undefined) line.timestamp = l.timestamp;
      lines.push(line);
    },
    (problem) => problems.push(problem),
  );
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

/** Reads the line from `cursor.at` to `cursor.end` into `out`; throws LineError naming its first problem. */
function parseLine(cursor: Cursor, out: ScannedLine): void {
  const { text, end } = cursor;
  // Problems are worded only when thrown (`what` names, `expect` messages): this runs for every tag and field.
  // Measurement: commas and spaces escaped.
  out.measurement = readName(cursor, MEASUREMENT_STOPS, 'measurement');
  let tags = 0;
  while (cursor.at < end && text.charCodeAt(cursor.at) === COMMA) {
    cursor.at++;
    const key = readName(cursor, KEY_STOPS, 'tag key');
    expect(cursor, EQUALS, 'tag key', key);
    out.tagValues[tags] = readName(cursor, TAG_VALUE_STOPS, 'value of tag', key);
    out.tagKeys[tags++] = key;
  }
  out.tagCount = tags;
  skipSpaces(cursor, 'a field set after the measurement and tags');
  let fields = 0;
  for (;;) {
    const key = readName(cursor, KEY_STOPS, 'field key');
    expect(cursor, EQUALS, 'field key', key);
    for (let f = 0; f < fields; f++) {
      if (out.fieldKeys[f] === key) throw new LineError(`field "${key}" appears twice`);
    }
    out.fieldValues[fields] = readFieldValue(cursor, key);
    out.fieldKeys[fields++] = key;
    if (cursor.at < end && text.charCodeAt(cursor.at) === COMMA) {
      cursor.at++;
      continue;
    }
    break;
  }
  out.fieldCount = fields;
  out.timestamp = undefined;
  if (cursor.at < end) {
    skipSpaces(cursor, 'a timestamp');
    let last = end;
    while (last > cursor.at && isBlank(text.charCodeAt(last - 1))) last--;
    const timestamp = text.slice(cursor.at, last);
    if (!isInteger(text, cursor.at, last)) {
      throw new LineError(`timestamp ${JSON.stringify(timestamp.slice(0, 40))} must be an integer`);
    }
    out.timestamp = timestamp;
  }
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
function readName(cursor: Cursor, stops: boolean, what: string, tag?: string): string {
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
    const named = tag === undefined ? what : `${what} "${tag}"`;
    throw new LineError(at >= end ? `${named} is missing` : `${named} is empty`);
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

/** Moves past the `=` after a key; else the line's problem names the key (`what "key"`). */
function expect(cursor: Cursor, code: number, what: string, key: string): void {
  if (cursor.at >= cursor.end || cursor.text.charCodeAt(cursor.at) !== code) {
    throw new LineError(`${what} "${key}" must be followed by "${String.fromCharCode(code)}"`);
  }
  cursor.at++;
}

/** True when text[from, to) is an optional `-` and then one or more digits (a timestamp), read in place. */
function isInteger(text: string, from: number, to: number): boolean {
  let at = from < to && text.charCodeAt(from) === 45 /* - */ ? from + 1 : from;
  if (at >= to) return false;
  for (; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/**
 * True when text[from, to) is a float of line protocol: an optional `-`, digits with an optional `.` and digits (at
 * least one digit in all), an optional exponent (`e`/`E`, a sign, digits). A scan, not a regex: it runs per field.
 */
function isFloat(text: string, from: number, to: number): boolean {
  let at = from < to && text.charCodeAt(from) === 45 /* - */ ? from + 1 : from;
  let digits = 0;
  while (at < to && isDigit(text.charCodeAt(at))) {
    at++;
    digits++;
  }
  if (at < to && text.charCodeAt(at) === 46 /* . */) {
    at++;
    while (at < to && isDigit(text.charCodeAt(at))) {
      at++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (at < to && (text.charCodeAt(at) | 32) === 101 /* e, E */) {
    at++;
    if (at < to && (text.charCodeAt(at) === 43 || text.charCodeAt(at) === 45)) at++;
    if (at >= to || !isDigit(text.charCodeAt(at))) return false;
    while (at < to && isDigit(text.charCodeAt(at))) at++;
  }
  return at === to;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
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
  const simple = simpleDecimal(text, from, at);
  if (simple !== undefined) return simple;
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
  if (!isFloat(text, from, at)) throw new LineError(`field "${key}" has an invalid number ${quoted(raw)}`);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new LineError(`field "${key}" float ${quoted(raw)} is out of range`);
  return value;
}

/** Powers of ten a double holds exactly (10^0 to 10^22). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);
/** Most significant digits whose integer a double holds exactly (below 2^53). */
const EXACT_DIGITS = 15;

/**
 * The value of text[from, to) when it is a plain decimal, `-?digits[.digits]` of at most EXACT_DIGITS digits
 * (most fields), else undefined (the caller then checks and converts the slice). Exactly what Number() gives:
 * the digits as an integer and the power of ten are both exact doubles, so their quotient is correctly rounded
 * (Clinger's fast path). Read in place: no slice and no string conversion per field.
 */
function simpleDecimal(text: string, from: number, to: number): number | undefined {
  const negative = from < to && text.charCodeAt(from) === 45; /* - */
  let at = negative ? from + 1 : from;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; at < to; at++) {
    const code = text.charCodeAt(at);
    if (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (code === 46 /* . */ && decimals < 0) {
      decimals = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > EXACT_DIGITS) return undefined;
  const value = decimals > 0 ? mantissa / EXACT_POWERS_OF_TEN[decimals]! : mantissa;
  return negative ? -value : value;
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
