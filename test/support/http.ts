// JSON requests to a running Funnel, with the answers typed as far as the tests read them.
import { withAdminAuth } from './env.js';

/** One bucket of GET /v1/aggregates. */
export interface Bucket {
  start: string;
  count: number;
  avg: number;
  min: number;
  max: number;
  sum: number;
}

/** One refused reading in a 400 answer. */
export interface ReadingError {
  index: number;
  field: string;
  reason: string;
}

/** A JSON answer of the API: which fields are present depends on the route and the status. */
export interface ApiAnswer {
  accepted?: number;
  replayed?: number;
  message?: string | string[];
  errors?: ReadingError[];
  buckets?: Bucket[];
}

/** The answer of GET /v1/aggregates; a refused query (400) has a message instead of buckets. */
export interface AggregatesAnswer extends ApiAnswer {
  buckets: Bucket[];
}

/** One entry of GET /v1/dlq. */
export interface DeadLetter {
  id: string;
  reason: string;
  partition: number;
  offset: string;
  replayedAt?: string;
}

/** One dependency in a readiness answer; indicators add their own fields (lag, state, ...). */
export type HealthDetail = { status: string } & Record<string, unknown>;

/** The body of GET /health/ready. */
export interface ReadinessAnswer {
  status: string;
  info?: Record<string, HealthDetail>;
  details?: Record<string, HealthDetail>;
}

export interface JsonAnswer<T> {
  status: number;
  json: T;
  headers: Headers;
}

/** Parses the body of `res` as JSON; an answer that is not JSON is an error naming it. */
async function readJson<T>(res: Response): Promise<JsonAnswer<T>> {
  const text = await res.text();
  try {
    return { status: res.status, json: JSON.parse(text) as T, headers: res.headers };
  } catch (error) {
    throw new Error(`answer ${res.status} is not JSON: ${text.slice(0, 200)}`, { cause: error });
  }
}

/** POSTs `body` as JSON (a string is sent as is, to send malformed JSON), with the admin token unless `headers` name one. */
export async function postJson<T = ApiAnswer>(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<JsonAnswer<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: withAdminAuth({ 'content-type': 'application/json', ...headers }),
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return readJson<T>(res);
}

/** GETs `url` (with the admin token unless `headers` name one) and parses its JSON answer. */
export async function getJson<T = ApiAnswer>(
  url: string,
  headers: Record<string, string> = {},
): Promise<JsonAnswer<T>> {
  return readJson<T>(await fetch(url, { headers: withAdminAuth(headers) }));
}
