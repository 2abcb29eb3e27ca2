// What a bad-input case is: the raw request and the answer the README documents for it.
import type { RawRequest } from '../raw-http.js';

export type BadRequest = RawRequest;

export interface Expected {
  /** Statuses the README allows for this request; the first one is "the" documented answer (summary). */
  status: number[];
  /** Reading-level 400: `errors` must list exactly these indexes (each with a field and a reason). */
  invalid?: number[];
  /** (index, field) pairs that must be among `errors`. */
  fields?: [number, string][];
  /**
   * The request may also be refused as a whole (the JSON parser refuses it) instead of reading by reading: then
   * `errors` may be absent/empty, but the message must match this. When `errors` is listed, `invalid` applies.
   */
  orBodyLevel?: RegExp;
  /** The message must match this (names the parameter or problem). */
  message?: RegExp;
  /** For a 202: the `accepted` count. */
  accepted?: number;
  /** For a 202: a reading that must be stored with exactly this value (duplicate keys: the last one wins). */
  stored?: { sensorId: string; value: number };
}

export interface BadCase {
  id: number;
  group: string;
  label: string;
  req: BadRequest;
  expect: Expected;
}

export interface CorpusOptions {
  seed: number;
  /** Epoch ms the corpus is built at (timestamps "in the future" are relative to it). */
  now: number;
  maxBodyBytes: number;
  maxPoints: number;
  maxBuckets: number;
  maxFutureSkewMs: number;
}

/** An invalid reading: raw text + the fields the app must name. Ghost ids only. */
export interface BadReading {
  label: string;
  raw: () => string;
  fields: string[];
}
