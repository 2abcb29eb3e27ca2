// The generator every attack family writes its cases with: the seeded PRNG, ids, request builders, valid readings.
import { prng } from '../dataset.js';
import { DAY, HOUR, J, JSON_CT, rawObject, type Entry } from './raw-json.js';
import { MAX_METRIC, MAX_TAG_KEY_LENGTH, NAME_CHARS } from './rules.js';
import type { BadCase, BadRequest, CorpusOptions, Expected } from './types.js';

export const GHOST_PREFIX = 'ghost-';
export const OK_PREFIX = 'ok-';

/**
 * One corpus being built. Families call it in a fixed order, so the same seed gives the same corpus: every
 * random choice, id and case number comes from here.
 */
export class CorpusKit {
  readonly cases: BadCase[] = [];
  readonly now: number;
  private readonly rand: () => number;
  private ghosts = 0;
  private oks = 0;

  constructor(readonly opts: CorpusOptions) {
    this.rand = prng(opts.seed);
    this.now = opts.now;
  }

  /** A number in [0, 1). */
  random(): number {
    return this.rand();
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rand() * list.length)];
  }

  /** A sensor id only requests that must be refused carry: none may ever be stored. */
  ghost(): string {
    return `${GHOST_PREFIX}${++this.ghosts}`;
  }

  /** A sensor id of a control request that must be accepted. */
  okId(): string {
    return `${OK_PREFIX}${++this.oks}`;
  }

  add(group: string, label: string, req: BadRequest, expect: Expected): void {
    this.cases.push({ id: this.cases.length + 1, group, label, req, expect });
  }

  // ---------------------------------------------------------------------------------------------------------
  // Valid readings, written as raw entries with every optional field sometimes present

  /** A valid name of up to `max` (at most 24) characters. */
  validName(max: number): string {
    return Array.from(
      { length: this.int(1, Math.min(max, 24)) },
      () => NAME_CHARS[this.int(0, NAME_CHARS.length - 1)],
    ).join('');
  }

  private pastTs(): number {
    return this.now - this.int(1, 30 * DAY);
  }

  private validTsRaw(): string | undefined {
    switch (this.int(0, 4)) {
      case 0:
        return undefined;
      case 1:
        return J(this.pastTs());
      case 2:
        return J(new Date(this.pastTs()).toISOString());
      case 3:
        return J(new Date(this.pastTs()).toISOString().replace('Z', '+00:00'));
      default: {
        // same instant, written in +05:30
        const t = this.pastTs();
        return J(new Date(t + 5.5 * HOUR).toISOString().replace(/\.\d{3}Z$/, '+05:30'));
      }
    }
  }

  private validValueRaw(): string {
    return this.pick([
      '0',
      '-0',
      '21.5',
      '-40.25',
      '1e3',
      '1E-7',
      '1.7976931348623157e308',
      '5e-324',
      J(this.int(-1e6, 1e6) / 100),
    ]);
  }

  /** A valid reading as raw entries, shuffled: key order does not matter. */
  validEntries(sensorId: string): Entry[] {
    const entries: Entry[] = [
      ['sensorId', J(sensorId)],
      ['metric', J(this.pick(['temperature', 'pressure', 'rpm', 'm', this.validName(MAX_METRIC)]))],
      ['value', this.validValueRaw()],
    ];
    const ts = this.validTsRaw();
    if (ts !== undefined) entries.push(['ts', ts]);
    const tagRoll = this.rand();
    if (tagRoll < 0.3)
      entries.push(['tags', J({ site: 'plant-a', [this.validName(MAX_TAG_KEY_LENGTH)]: 'ünïcødé ✓ values are fine' })]);
    else if (tagRoll < 0.4) entries.push(['tags', J({})]);
    if (this.rand() < 0.15) entries.push(['id', J(`${sensorId}:${this.int(0, 1e9)}`)]);
    return entries.sort(() => this.rand() - 0.5);
  }

  validReading(sensorId: string): string {
    return rawObject(this.validEntries(sensorId));
  }

  /** Entries of a valid reading with `key` replaced by (or, if raw is undefined, without) the given raw value. */
  withField(sensorId: string, key: string, raw: string | undefined): Entry[] {
    const entries = this.validEntries(sensorId).filter(([k]) => k !== key);
    if (raw !== undefined) entries.push([key, raw]);
    return entries;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Requests and expectations

  post(body: string | Buffer | { chunked: Buffer }, headers: Record<string, string> = JSON_CT): BadRequest {
    return typeof body === 'string' || Buffer.isBuffer(body)
      ? {
          method: 'POST',
          path: '/v1/points',
          headers,
          body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
        }
      : { method: 'POST', path: '/v1/points', headers, body: body.chunked, chunked: true };
  }

  get(query: string): BadRequest {
    return { method: 'GET', path: `/v1/aggregates?${query}`, headers: {} };
  }
}

/** A reading-level 400 listing exactly `invalid`, naming at least `fields`. */
export const readingsError = (invalid: number[], fields: [number, string][] = []): Expected => ({
  status: [400],
  invalid,
  fields,
});

/** A refusal of the request as a whole, with a message naming the problem. */
export const bodyError = (status: number[], message: RegExp): Expected => ({ status, message });
