/** The query string of GET /v2/aggregates, parsed by hand: `tag.<key>` parameters are open-ended. */
import {
  MAX_METRIC_LENGTH,
  MAX_SENSOR_ID_LENGTH,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  MAX_TAGS,
  NAME_CHARACTERS,
  isName,
} from '@funnel/contracts';
import type { SeriesSelector } from '@funnel/storage';

import { instantProblem, parseInstant } from './aggregates-query.dto.js';
import { CALENDAR_UNITS, isTimeZone, parseWindowSpec, type WindowSpec } from './calendar.js';
import { FILL_MODES, type FillMode } from './fill.js';
import { DEFAULT_FNS, parseFn, type AggregateFn } from './functions.js';
import { DEFAULT_GROUP_BY, type GroupField } from './grouping.js';

/** Most metrics, and most sensor ids, one query may list. */
export const MAX_LISTED_METRICS = 100;
export const MAX_LISTED_SENSORS = 1000;
export const MAX_FNS = 32;
/** Longest `metric` and `sensorId` lists, in characters: a URL must stay well inside Node's 16 KiB of headers. */
export const MAX_METRIC_LIST_LENGTH = 1024;
export const MAX_SENSOR_LIST_LENGTH = 2048;

/** The named parameters of GET /v2/aggregates (besides `tag.<key>`). */
export const V2_PARAMETERS = [
  'metric',
  'sensorId',
  'sensorPrefix',
  'from',
  'to',
  'window',
  'tz',
  'fns',
  'groupBy',
  'fill',
  'format',
] as const;

export const FORMATS = ['json', 'csv'] as const;

/** A tag filter parameter: `tag.<key>`, or `tag[<key>]` (OpenAPI's deepObject form of the same). */
const TAG_PARAMETER = /^tag(?:\.(.+)|\[(.+)\])$/;

/** A parsed, valid aggregates query. */
export interface AggregateQuery {
  selector: SeriesSelector;
  from: number;
  to: number;
  /** As asked, for the answer. */
  windowName: string;
  window: WindowSpec;
  tz: string;
  fns: AggregateFn[];
  groupBy: GroupField[];
  fill: FillMode;
}

/** The query, or the problems of its parameters (each message begins with the parameter's name). */
export type ParsedV2 = { query: AggregateQuery; format?: 'json' | 'csv' } | { problems: string[] };

/** Whether `name` is a tag filter parameter; if so its tag is added to `tags`, or its problem to `problems`. */
export function tagParameter(name: string, value: string, tags: Record<string, string>, problems: string[]): boolean {
  const tag = TAG_PARAMETER.exec(name);
  if (!tag) return false;
  const key = tag[1] ?? tag[2]!;
  if (!isName(key, MAX_TAG_KEY_LENGTH)) {
    problems.push(`${name.slice(0, 80)}: a tag key is 1-${MAX_TAG_KEY_LENGTH} characters of ${NAME_CHARACTERS}`);
  } else if (value.length > MAX_TAG_VALUE_LENGTH) {
    problems.push(`tag.${key} must be at most ${MAX_TAG_VALUE_LENGTH} characters`);
  } else if (Object.hasOwn(tags, key)) {
    problems.push(`tag.${key} must be given once`);
  } else {
    tags[key] = value;
  }
  return true;
}

/** The 400 message of a parameter a route does not take. */
export function unknownParameter(name: string, known: readonly string[], tags = true): string {
  const expected = [...known, ...(tags ? ['tag.<key>'] : [])].join(', ');
  return `query parameter ${JSON.stringify(name.slice(0, 80))} is not known (expected: ${expected})`;
}

function list(value: string): string[] {
  return value.split(',');
}

/** Parses the raw query string object of GET /v2/aggregates. */
export function parseV2Query(raw: Record<string, unknown>): ParsedV2 {
  const problems: string[] = [];
  const text: Record<string, string> = {};
  const tags: Record<string, string> = {};
  /** "is required" is not news about a parameter given twice: the first problem already names it. */
  const repeated = new Set<string>();
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== 'string') {
      problems.push(`${name.slice(0, 80)} must be given once`);
      repeated.add(`${name} is required`);
      continue;
    }
    if (!tagParameter(name, value, tags, problems)) {
      if ((V2_PARAMETERS as readonly string[]).includes(name)) text[name] = value;
      else problems.push(unknownParameter(name, V2_PARAMETERS));
    }
  }
  if (Object.keys(tags).length > MAX_TAGS) problems.push(`tag.<key>: at most ${MAX_TAGS} tag filters`);

  const metrics = names(
    'metric',
    text.metric,
    MAX_METRIC_LENGTH,
    MAX_LISTED_METRICS,
    MAX_METRIC_LIST_LENGTH,
    problems,
    true,
  );
  const sensorIds = names(
    'sensorId',
    text.sensorId,
    MAX_SENSOR_ID_LENGTH,
    MAX_LISTED_SENSORS,
    MAX_SENSOR_LIST_LENGTH,
    problems,
    false,
  );
  const sensorPrefix = text.sensorPrefix;
  if (sensorPrefix !== undefined && !isName(sensorPrefix, MAX_SENSOR_ID_LENGTH)) {
    problems.push(`sensorPrefix must be 1-${MAX_SENSOR_ID_LENGTH} characters of ${NAME_CHARACTERS}`);
  }
  const from = instant('from', text.from, problems);
  const to = instant('to', text.to, problems);
  const window = text.window === undefined ? undefined : parseWindowSpec(text.window);
  if (text.window === undefined) problems.push('window is required');
  else if (!window) {
    problems.push(
      `window must be ${CALENDAR_UNITS.join(', ')}, or a duration like 30s, 5m, 15m, 6h, 7d (at most 366d)`,
    );
  }
  const tz = text.tz ?? 'UTC';
  if (!isTimeZone(tz)) problems.push(`tz must be an IANA time zone name such as UTC or Europe/Berlin`);
  const fns = parseFns(text.fns, problems);
  const groupBy = parseGroupBy(text.groupBy, problems);
  const fill = text.fill ?? 'none';
  if (!(FILL_MODES as readonly string[]).includes(fill)) problems.push(`fill must be one of ${FILL_MODES.join(', ')}`);
  const format = text.format;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) {
    problems.push(`format must be one of ${FORMATS.join(', ')}`);
  }
  if (problems.length > 0) return { problems: problems.filter((problem) => !repeated.has(problem)) };
  const selector: SeriesSelector = {
    metrics: metrics!,
    ...(sensorIds ? { sensorIds } : {}),
    ...(sensorPrefix !== undefined ? { sensorPrefix } : {}),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
  };
  return {
    query: {
      selector,
      from: from!,
      to: to!,
      windowName: text.window!,
      window: window!,
      tz,
      fns: fns!,
      groupBy: groupBy!,
      fill: fill as FillMode,
    },
    format: format as 'json' | 'csv' | undefined,
  };
}

function names(
  param: string,
  value: string | undefined,
  maxLength: number,
  maxItems: number,
  maxChars: number,
  problems: string[],
  required: boolean,
): string[] | undefined {
  if (value === undefined) {
    if (required) problems.push(`${param} is required`);
    return undefined;
  }
  if (value.length > maxChars) {
    problems.push(`${param} must be at most ${maxChars} characters`);
    return undefined;
  }
  const items = list(value);
  if (items.length > maxItems) {
    problems.push(`${param} lists ${items.length} names, at most ${maxItems}`);
    return undefined;
  }
  const bad: string | undefined = items.find((item) => !isName(item, maxLength));
  if (bad !== undefined) {
    problems.push(
      `${param} must be a comma-separated list of names of 1-${maxLength} characters of ${NAME_CHARACTERS} (got ${JSON.stringify(String(bad).slice(0, 80))})`,
    );
    return undefined;
  }
  return [...new Set(items)];
}

function instant(param: string, value: string | undefined, problems: string[]): number | undefined {
  if (value === undefined) {
    problems.push(`${param} is required`);
    return undefined;
  }
  const problem = instantProblem(param, value);
  if (problem !== undefined) problems.push(problem);
  return parseInstant(value);
}

function parseFns(value: string | undefined, problems: string[]): AggregateFn[] | undefined {
  const fns: AggregateFn[] = [];
  const items = value === undefined ? [...DEFAULT_FNS] : list(value);
  if (items.length > MAX_FNS) {
    problems.push(`fns lists ${items.length} functions, at most ${MAX_FNS}`);
    return undefined;
  }
  let ok = true;
  for (const item of items) {
    const fn = parseFn(item);
    if (typeof fn === 'string') {
      problems.push(fn);
      ok = false;
    } else if (fns.some((f) => f.name === fn.name)) {
      problems.push(`fns lists ${fn.name} twice`);
      ok = false;
    } else {
      fns.push(fn);
    }
  }
  return ok ? fns : undefined;
}

function parseGroupBy(value: string | undefined, problems: string[]): GroupField[] | undefined {
  if (value === undefined) return [...DEFAULT_GROUP_BY];
  if (value === 'none') return [];
  const fields: GroupField[] = [];
  for (const field of list(value)) {
    const known =
      field === 'sensorId' ||
      field === 'metric' ||
      (field.startsWith('tag.') && isName(field.slice(4), MAX_TAG_KEY_LENGTH));
    if (!known) {
      problems.push(
        `groupBy: ${JSON.stringify(field.slice(0, 80))} is not a field (expected sensorId, metric, tag.<key>, or none alone)`,
      );
      return undefined;
    }
    if (fields.includes(field)) {
      problems.push(`groupBy lists ${field} twice`);
      return undefined;
    }
    fields.push(field);
  }
  return fields;
}
