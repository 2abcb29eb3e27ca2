/** The Explore view's whole query, kept in the URL hash so a view can be bookmarked, shared and reopened. */
import { FUNCTIONS, type Fn } from './api.js';

export const PRESETS = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
} as const;
export type Preset = keyof typeof PRESETS;

/** Windows offered, finest first; `auto` picks the finest of these giving at most MAX_AUTO_BUCKETS buckets. */
export const WINDOWS = ['1s', '5s', '10s', '30s', 'minute', '5m', '15m', '30m', 'hour', '6h', 'day', '7d'] as const;
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
const MAX_AUTO_BUCKETS = 300;

export interface ExploreState {
  sensorId: string;
  metric: string;
  /** A preset (relative to now) or 'absolute' with from/to. */
  range: Preset | 'absolute';
  /** ISO-8601 instants, used when range is 'absolute'. */
  from: string;
  to: string;
  /** A window of WINDOWS, any duration the api accepts, or 'auto'. */
  window: string;
  fns: Fn[];
  /** 'browser' or an IANA zone name, for showing times. */
  tz: string;
}

export const DEFAULT_STATE: ExploreState = {
  sensorId: '',
  metric: '',
  range: '1h',
  from: '',
  to: '',
  window: 'auto',
  fns: ['avg', 'min', 'max'],
  tz: 'browser',
};

export function parseExplore(params: URLSearchParams): ExploreState {
  const range = params.get('range') ?? DEFAULT_STATE.range;
  const fns = (params.get('fns') ?? DEFAULT_STATE.fns.join(','))
    .split(',')
    .filter((fn): fn is Fn => (FUNCTIONS as readonly string[]).includes(fn));
  return {
    sensorId: params.get('sensorId') ?? '',
    metric: params.get('metric') ?? '',
    range: range in PRESETS || range === 'absolute' ? (range as ExploreState['range']) : DEFAULT_STATE.range,
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    window: params.get('window') ?? DEFAULT_STATE.window,
    fns: fns.length > 0 ? fns : DEFAULT_STATE.fns,
    tz: params.get('tz') ?? DEFAULT_STATE.tz,
  };
}

export function serializeExplore(state: ExploreState): URLSearchParams {
  const params = new URLSearchParams({ sensorId: state.sensorId, metric: state.metric, range: state.range });
  if (state.range === 'absolute') {
    params.set('from', state.from);
    params.set('to', state.to);
  }
  params.set('window', state.window);
  params.set('fns', state.fns.join(','));
  params.set('tz', state.tz);
  return params;
}

/** [from, to) in epoch ms, or a message naming what is wrong. */
export function resolveRange(state: ExploreState, now = Date.now()): { from: number; to: number } | string {
  if (state.range !== 'absolute') return { from: now - PRESETS[state.range], to: now };
  const from = Date.parse(state.from);
  const to = Date.parse(state.to);
  if (Number.isNaN(from)) return 'From is not a date-time (e.g. 2026-11-28T00:00:00Z)';
  if (Number.isNaN(to)) return 'To is not a date-time (e.g. 2026-11-29T00:00:00Z)';
  if (from >= to) return 'From must be before To';
  return { from, to };
}

/** The window to ask for: the one chosen, or for 'auto' the finest with at most MAX_AUTO_BUCKETS buckets. */
export function resolveWindow(window: string, from: number, to: number): string {
  if (window !== 'auto') return window;
  return WINDOWS.find((w) => (to - from) / WINDOW_MS[w]! <= MAX_AUTO_BUCKETS) ?? '7d';
}
