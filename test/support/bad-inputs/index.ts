/**
 * The bad-input corpus: thousands of requests to POST /v1/points and GET /v1/aggregates, each with the answer the
 * README documents for it, generated from a seeded PRNG (same seed, same corpus; only timestamps relative to
 * `now` move with the clock). Each attack family lives in its own file, as data plus the few lines that turn it
 * into requests; limits and patterns come from @funnel/contracts (rules.ts) and the settings' defaults.
 *
 * Bodies are built as raw JSON text (not JSON.stringify of an object) so the corpus can hold what JSON.parse never
 * produces: duplicate keys, raw NaN/Infinity/1e999 tokens, truncated documents, invalid UTF-8.
 *
 * Sensor ids: readings in requests that must be rejected use `GHOST_PREFIX` ids, readings in requests that may be
 * accepted use `OK_PREFIX` ids, so the test can check afterwards that no ghost reading was ever stored.
 */
import {
  addDeepCases,
  addDuplicateKeyCases,
  addEmptyCases,
  addHugeCases,
  addNotAReadingCases,
  addNotJsonCases,
  addProtoCases,
  addTruncatedCases,
} from './bodies.js';
import { addAuthorizationCases, addContentTypeCases, addIdempotencyKeyCases } from './headers.js';
import { CorpusKit, GHOST_PREFIX } from './kit.js';
import { addNameCases } from './names.js';
import { addQueryCases } from './query.js';
import { addMixedArrays, addReadingCases, badReadings } from './readings.js';
import { addSizeCases } from './size.js';
import type { BadCase, CorpusOptions } from './types.js';

export { GHOST_PREFIX, OK_PREFIX } from './kit.js';
export type { BadCase, BadRequest, CorpusOptions, Expected } from './types.js';

/** Builds every case of the corpus, in a fixed order for a given seed (the order is what makes it reproducible). */
export function buildCorpus(opts: CorpusOptions): BadCase[] {
  const kit = new CorpusKit(opts);
  const bad = badReadings(kit);
  // field types and lengths, one reading at a time
  addReadingCases(kit, bad);
  addNameCases(kit);
  addMixedArrays(kit, bad);
  // body shape
  addNotJsonCases(kit);
  addNotAReadingCases(kit);
  addEmptyCases(kit);
  addTruncatedCases(kit);
  // headers and lengths of the request
  addContentTypeCases(kit);
  addSizeCases(kit);
  addDeepCases(kit);
  addHugeCases(kit);
  addProtoCases(kit);
  addDuplicateKeyCases(kit, bad);
  addIdempotencyKeyCases(kit);
  addAuthorizationCases(kit);
  // query parameters
  addQueryCases(kit);
  return kit.cases;
}

/** Ids of readings that the corpus sends only in requests that must be refused. */
export function isGhost(sensorId: string): boolean {
  return sensorId.startsWith(GHOST_PREFIX);
}
