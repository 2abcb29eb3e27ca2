/**
 * The console's only data layer: every request to Funnel goes through here, with the session's token.
 * Today it reads GET /v1/aggregates (one series, fixed functions); when the v2 query API lands, only this
 * module changes: `querySeries` keeps its answer shape (series of buckets keyed by function).
 */

const TOKEN_KEY = 'funnel.console.token';

export function getToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

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

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
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
  const body = text === '' ? undefined : safeJson(text);
  if (!res.ok) {
    const message = (body as { message?: unknown } | undefined)?.message;
    throw new ApiError(res.status, Array.isArray(message) ? message.join('; ') : String(message ?? res.statusText));
  }
  return body as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text.slice(0, 300) };
  }
}

export const FUNCTIONS = ['avg', 'min', 'max', 'sum', 'count'] as const;
export type Fn = (typeof FUNCTIONS)[number];

/** One bucket as the api answers it: start (ISO UTC) and one number per function. */
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

/** The buckets of one series over [from, to) (v1: every function, empty buckets omitted). */
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
