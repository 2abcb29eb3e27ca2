/** The Explore view's whole query, kept in the URL hash so a view can be bookmarked, shared and reopened. */
import { FILLS, NAMED_FNS, PERCENTILE, type AggregatesQuery, type Fill } from './api.js';
import { resolveZone, zonedToUtc } from './format.js';

export const PRESETS = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
} as const;
export type Preset = keyof typeof PRESETS;

/**
 * Windows offered, finest first. `minute`, `hour`, `day`, `week` and `month` are calendar units in the chosen
 * zone (a Berlin day is 23 h on the spring change); the others are fixed durations aligned to the UTC epoch.
 */
export const WINDOWS = [
  '1s',
  '5s',
  '10s',
  '30s',
  'minute',
  '5m',
  '15m',
  '30m',
  'hour',
  '6h',
  'day',
  '7d',
  'week',
  'month',
] as const;
/** Nominal lengths, for `auto` only (which never picks a calendar week or month). */
const WINDOW_MS: Record<string, number> = {
  '1s': 1_000,
  '5s': 5_000,
  '10s': 10_000,
  '30s': 30_000,
  minute: 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  hour: 3_600_000,
  '6h': 21_600_000,
  day: 86_400_000,
  '7d': 604_800_000,
};
const AUTO_WINDOWS = WINDOWS.filter((w) => w in WINDOW_MS);
const MAX_AUTO_BUCKETS = 300;

/** Group-by choices offered besides `tag.<key>` (typed); the api's default is `sensorId,metric`. */
export const GROUPINGS = ['sensorId,metric', 'sensorId', 'metric', 'none'] as const;

export interface ExploreState {
  /** One metric or a comma list. */
  metric: string;
  /** Series ticked in the catalog (exact sensor ids); none: every sensor matching `sensorPrefix`. */
  sensors: string[];
  /** The catalog search, and the query's filter when no sensor is ticked. */
  sensorPrefix: string;
  /** Tag filters `key -> value` (catalog and query). */
  tags: Record<string, string>;
  /** A preset (relative to now) or 'absolute' with from/to. */
  range: Preset | 'absolute';
  /** Date-times: ISO-8601 with a zone, or without one meaning wall-clock time in `tz`. */
  from: string;
  to: string;
  /** A window of WINDOWS, any window the api accepts, or 'auto'. */
  window: string;
  /** `count,sum,avg,min,max,first,last,spread,stddev` and percentiles `p<q>`. */
  fns: string[];
  /** 'browser' or an IANA zone name: of calendar windows, of absolute times without a zone, of what is shown. */
  tz: string;
  fill: Fill;
  /** 'none', or a comma list of sensorId, metric, tag.<key>. */
  groupBy: string;
}

export const DEFAULT_STATE: ExploreState = {
  metric: '',
  sensors: [],
  sensorPrefix: '',
  tags: {},
  range: '1h',
  from: '',
  to: '',
  window: 'auto',
  fns: ['avg', 'min', 'max'],
  tz: 'browser',
  fill: 'none',
  groupBy: 'sensorId,metric',
};

export function isFn(fn: string): boolean {
  return (NAMED_FNS as readonly string[]).includes(fn) || PERCENTILE.test(fn);
}

/** `a,b,,c ` -> ['a', 'b', 'c']. */
export function list(text: string | null | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/** `site=plant-a, line=2` -> { site: 'plant-a', line: '2' } (what the Tags field holds). */
export function parseTags(text: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of list(text)) {
    const at = pair.indexOf('=');
    if (at > 0) tags[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return tags;
}

export function tagsText(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

export function parseExplore(params: URLSearchParams): ExploreState {
  const range = params.get('range') ?? DEFAULT_STATE.range;
  const fns = list(params.get('fns') ?? DEFAULT_STATE.fns.join(',')).filter(isFn);
  const fill = params.get('fill') ?? DEFAULT_STATE.fill;
  const tags: Record<string, string> = {};
  for (const [name, value] of params) if (name.startsWith('tag.') && name.length > 4) tags[name.slice(4)] = value;
  return {
    metric: params.get('metric') ?? '',
    // `sensorId` as the api names it (and as the first console's URLs held a single one).
    sensors: list(params.get('sensorId')),
    sensorPrefix: params.get('sensorPrefix') ?? '',
    tags,
    range: range in PRESETS || range === 'absolute' ? (range as ExploreState['range']) : DEFAULT_STATE.range,
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    window: params.get('window') ?? DEFAULT_STATE.window,
    fns: fns.length > 0 ? fns : DEFAULT_STATE.fns,
    tz: params.get('tz') ?? DEFAULT_STATE.tz,
    fill: (FILLS as readonly string[]).includes(fill) ? (fill as Fill) : DEFAULT_STATE.fill,
    groupBy: params.get('groupBy') ?? DEFAULT_STATE.groupBy,
  };
}

export function serializeExplore(state: ExploreState): URLSearchParams {
  const params = new URLSearchParams({ metric: state.metric });
  if (state.sensors.length > 0) params.set('sensorId', state.sensors.join(','));
  if (state.sensorPrefix !== '') params.set('sensorPrefix', state.sensorPrefix);
  for (const [key, value] of Object.entries(state.tags)) params.set(`tag.${key}`, value);
  params.set('range', state.range);
  if (state.range === 'absolute') {
    params.set('from', state.from);
    params.set('to', state.to);
  }
  params.set('window', state.window);
  params.set('fns', state.fns.join(','));
  params.set('tz', state.tz);
  params.set('fill', state.fill);
  params.set('groupBy', state.groupBy);
  return params;
}

/** A date-time as typed: with a zone (`Z`, `+01:00`) it is that instant, without one it is wall-clock time in `tz`. */
export function parseInstant(text: string, tz: string): number {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) return Date.parse(text);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/.exec(text);
  if (!m) return Number.NaN;
  const [y, mo, d, h = '0', mi = '0', s = '0', ms = '0'] = m.slice(1);
  const wall = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, +ms.padEnd(3, '0'));
  return zonedToUtc(wall, resolveZone(tz));
}

/** [from, to) in epoch ms, or a message naming what is wrong. */
export function resolveRange(state: ExploreState, now = Date.now()): { from: number; to: number } | string {
  if (state.range !== 'absolute') return { from: now - PRESETS[state.range], to: now };
  const from = parseInstant(state.from, state.tz);
  const to = parseInstant(state.to, state.tz);
  if (Number.isNaN(from)) return 'From is not a date-time (e.g. 2026-11-28T00:00:00Z, or 2026-11-28 01:00 in the zone)';
  if (Number.isNaN(to)) return 'To is not a date-time (e.g. 2026-11-29T00:00:00Z, or 2026-11-29 01:00 in the zone)';
  if (from >= to) return 'From must be before To';
  return { from, to };
}

/** The window to ask for: the one chosen, or for 'auto' the finest with at most MAX_AUTO_BUCKETS buckets. */
export function resolveWindow(window: string, from: number, to: number): string {
  if (window !== 'auto') return window;
  return AUTO_WINDOWS.find((w) => (to - from) / WINDOW_MS[w]! <= MAX_AUTO_BUCKETS) ?? '7d';
}

/** The api query of a state whose range resolved. */
export function aggregatesQuery(state: ExploreState, range: { from: number; to: number }): AggregatesQuery {
  return {
    metric: state.metric,
    sensorIds: state.sensors,
    sensorPrefix: state.sensorPrefix,
    tags: state.tags,
    ...range,
    window: resolveWindow(state.window, range.from, range.to),
    tz: resolveZone(state.tz),
    fns: state.fns,
    groupBy: state.groupBy === 'none' ? [] : list(state.groupBy),
    fill: state.fill,
  };
}

/**
 * The range after a keyboard zoom or pan: `in` halves it around its middle, `out` doubles it, `left`/`right`
 * move it by a quarter of its length. Whole milliseconds.
 */
export function stepRange(
  range: { from: number; to: number },
  step: 'in' | 'out' | 'left' | 'right',
): { from: number; to: number } {
  const span = range.to - range.from;
  const middle = range.from + span / 2;
  if (step === 'in') return { from: Math.floor(middle - span / 4), to: Math.ceil(middle + span / 4) };
  if (step === 'out') return { from: Math.floor(middle - span), to: Math.ceil(middle + span) };
  const shift = Math.round(span / 4) * (step === 'left' ? -1 : 1);
  return { from: range.from + shift, to: range.to + shift };
}
