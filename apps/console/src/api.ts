/**
 * The console's only data layer: every request to Funnel goes through here, with the session's token.
 * Explore reads GET /v2/aggregates (JSON for the chart and table, the api's own CSV for downloads) and the
 * GET /v1/series catalog; Live reads the one-series GET /v1/aggregates; GET /v1/tokens/self says what the
 * token may do.
 */

const TOKEN_KEY = 'funnel.console.token';

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

/** Fired on window when a token has been entered (not per keystroke), so pages that depend on its scope ask again. */
export const TOKEN_CHANGED = 'funnel:token';

export function setToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A non-2xx answer: the status and the api's own message, so 401/403 read as what they are. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** What to tell the user: an auth problem is named as such, anything else with the api's message. */
  describe(): string {
    if (this.status === 401)
      return `401 Unauthorized: this api needs a token. Enter one in the Token field. (${this.message})`;
    if (this.status === 403) return `403 Forbidden: the token is not allowed to do this. (${this.message})`;
    return `${this.status}: ${this.message}`;
  }
}

/** The api's base: the console is served at <base>/ui/, so the api is the page's origin (same-origin requests). */
const BASE = '';

/** The answer's text after the status check: a non-2xx is an ApiError with the api's message. */
async function requestText(path: string, init: RequestInit = {}): Promise<string> {
  const headers = new Headers(init.headers);
  const token = getToken();
  if (token !== '') headers.set('Authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(`${BASE}${path}`, { ...init, headers, cache: 'no-store' });
  } catch (error) {
    throw new ApiError(0, `the api did not answer (${(error as Error).message})`);
  }
  const text = await res.text();
  if (!res.ok) {
    const message = (safeJson(text) as { message?: unknown } | undefined)?.message;
    throw new ApiError(res.status, Array.isArray(message) ? message.join('; ') : String(message ?? res.statusText));
  }
  return text;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const text = await requestText(path, init);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

function safeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

/** One bucket of GET /v1/aggregates: start (ISO UTC) and its five functions. */
export interface Bucket {
  start: string;
  count: number;
  avg: number;
  min: number;
  max: number;
  sum: number;
}

export interface SeriesQuery {
  sensorId: string;
  metric: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  window: string;
}

export interface SeriesAnswer {
  sensorId: string;
  metric: string;
  window: string;
  from: string;
  to: string;
  buckets: Bucket[];
}

/** The buckets of one series over [from, to) (v1: every function, empty buckets omitted; Live uses it). */
export function querySeries(q: SeriesQuery): Promise<SeriesAnswer> {
  const params = new URLSearchParams({
    sensorId: q.sensorId,
    metric: q.metric,
    from: new Date(q.from).toISOString(),
    to: new Date(q.to).toISOString(),
    window: q.window,
  });
  return request<SeriesAnswer>(`/v1/aggregates?${params}`);
}

/** The newest one-second bucket of a series in the last `lookbackMs` (v1 has no "last reading" query). */
export async function latestReading(
  sensorId: string,
  metric: string,
  lookbackMs: number,
  now = Date.now(),
): Promise<Bucket | undefined> {
  const to = Math.ceil((now + 1) / 1000) * 1000;
  const answer = await querySeries({ sensorId, metric, from: to - lookbackMs, to: to + 1000, window: '1s' });
  return answer.buckets.at(-1);
}

/** Functions GET /v2/aggregates names; percentiles are `p<q>` besides these (`p50`, `p99.9`). */
export const NAMED_FNS = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'spread', 'stddev'] as const;
export const PERCENTILE = /^p[0-9]{1,3}(?:\.[0-9]{1,6})?$/;
export const FILLS = ['none', 'null', 'zero', 'previous', 'linear'] as const;
export type Fill = (typeof FILLS)[number];

/** What Explore asks GET /v2/aggregates: the filters, [from, to), the window in a zone, functions, grouping, fill. */
export interface AggregatesQuery {
  /** One metric or a comma list. */
  metric: string;
  /** Exact sensor ids; when empty, `sensorPrefix` (or every sensor) is asked for. */
  sensorIds: readonly string[];
  sensorPrefix: string;
  tags: Readonly<Record<string, string>>;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  window: string;
  /** An IANA zone name. */
  tz: string;
  fns: readonly string[];
  /** Fields to group by; empty merges everything (`groupBy=none`). */
  groupBy: readonly string[];
  fill: Fill;
}

/** One bucket of GET /v2/aggregates: `start` (ISO UTC) and one number (or null) per function. */
export type AggregateBucket = { start: string } & Record<string, number | null | string>;

export interface AggregateSeries {
  key: Record<string, string | null>;
  buckets: AggregateBucket[];
}

export interface AggregatesAnswer {
  from: string;
  to: string;
  window: string;
  tz: string;
  fns: string[];
  groupBy: string[];
  series: AggregateSeries[];
}

/** A function's value in a bucket: a number, or null where the api has none. */
export function bucketValue(bucket: AggregateBucket, fn: string): number | null {
  const value = bucket[fn];
  return typeof value === 'number' ? value : null;
}

/** The query string of GET /v2/aggregates for `q` (the console's CSV download asks the same with format=csv). */
export function aggregatesParams(q: AggregatesQuery): URLSearchParams {
  const params = new URLSearchParams({ metric: q.metric });
  if (q.sensorIds.length > 0) params.set('sensorId', q.sensorIds.join(','));
  else if (q.sensorPrefix !== '') params.set('sensorPrefix', q.sensorPrefix);
  for (const [key, value] of Object.entries(q.tags)) params.set(`tag.${key}`, value);
  params.set('from', new Date(q.from).toISOString());
  params.set('to', new Date(q.to).toISOString());
  params.set('window', q.window);
  params.set('tz', q.tz);
  params.set('fns', q.fns.join(','));
  params.set('groupBy', q.groupBy.length > 0 ? q.groupBy.join(',') : 'none');
  params.set('fill', q.fill);
  return params;
}

export function queryAggregates(q: AggregatesQuery): Promise<AggregatesAnswer> {
  return request<AggregatesAnswer>(`/v2/aggregates?${aggregatesParams(q)}`);
}

/** The api's own CSV of the same query (`start,<groupBy columns>,<fns>`, CRLF lines), as it sends it. */
export function aggregatesCsv(q: AggregatesQuery): Promise<string> {
  const params = aggregatesParams(q);
  params.set('format', 'csv');
  return requestText(`/v2/aggregates?${params}`);
}

/** One entry of the GET /v1/series catalog. */
export interface CatalogSeries {
  sensorId: string;
  metric: string;
  tags: Record<string, string>;
  firstTs: string;
  lastTs: string;
  count: number;
}

export interface CatalogPage {
  series: CatalogSeries[];
  next?: string;
}

/** A page of the catalog: series of `metric` (if given) whose sensor id starts with `sensorPrefix` and tags match. */
export function listSeries(filter: {
  metric?: string;
  sensorPrefix?: string;
  tags?: Readonly<Record<string, string>>;
  limit?: number;
  cursor?: string;
}): Promise<CatalogPage> {
  const params = new URLSearchParams();
  if (filter.metric) params.set('metric', filter.metric);
  if (filter.sensorPrefix) params.set('sensorPrefix', filter.sensorPrefix);
  for (const [key, value] of Object.entries(filter.tags ?? {})) params.set(`tag.${key}`, value);
  params.set('limit', String(filter.limit ?? 50));
  if (filter.cursor) params.set('cursor', filter.cursor);
  return request<CatalogPage>(`/v1/series?${params}`);
}

/** GET /v1/tokens/self: the token's id (null with AUTH=off), the scopes it may use, its sensor prefix. */
export interface TokenSelf {
  id: string | null;
  scopes: string[];
  sensorPrefix: string | null;
}

export function tokenSelf(): Promise<TokenSelf> {
  return request<TokenSelf>('/v1/tokens/self');
}

export interface LatencySummary {
  count: number;
  meanSeconds: number | null;
  p50Seconds: number | null;
  p95Seconds: number | null;
}

/** The wire shape of GET /v1/pipeline (libs/status/src/pipeline-status.ts; the browser build cannot import it). */
export interface ProcessStatus {
  url: string;
  role: string | null;
  version: string | null;
  reachable: boolean;
  error?: string;
  health: {
    status: 'ok' | 'error' | 'unreachable';
    checks: Record<string, { status: string } & Record<string, unknown>>;
  };
  readingsAccepted: number;
  readingsConsumed: number;
  readingsWritten: number;
  deadLetters: number;
  bufferReadings: number | null;
  consumerLag: { topic: string; partition: number; lag: number }[];
  flush: LatencySummary;
  endToEnd: LatencySummary;
}

export interface PipelineStatus {
  sampledAt: string;
  processes: ProcessStatus[];
}

export function pipelineStatus(): Promise<PipelineStatus> {
  return request<PipelineStatus>('/v1/pipeline');
}

export interface DeadLetter {
  id: string;
  reason: string;
  sourceTopic: string;
  partition: number;
  offset: string;
  value: string;
  deadLetteredAt: string;
  replayedAt?: string;
}

export function listDeadLetters(limit = 100): Promise<DeadLetter[]> {
  return request<DeadLetter[]>(`/v1/dlq?limit=${limit}`);
}

export function replayDeadLetters(ids: string[]): Promise<{ replayed: number }> {
  return request<{ replayed: number }>('/v1/dlq/replay', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ids }),
  });
}
