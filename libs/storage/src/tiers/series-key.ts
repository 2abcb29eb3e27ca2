// The identity of a series: sensorId, metric and tag set, as one short key that every tier document carries.
import { createHash } from 'node:crypto';

/** A series as stored on tier documents: its key and the fields queries filter and group by. */
export interface SeriesFields {
  /** Hash of the canonical (sensorId, metric, sorted tags): 22 base64url characters. */
  k: string;
  s: string;
  m: string;
  /** Tags as an object (for answers). */
  g: Record<string, string>;
  /** Tags as `key=value` strings (for filters: tag keys may hold dots, which a field path cannot). */
  ga: string[];
}

const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** `key=value` per tag, sorted by key: a tag key never holds `=`, so the first one splits it. */
export function tagPairs(tags: Readonly<Record<string, string>> | undefined): string[] {
  if (!tags) return [];
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`);
}

/** The series of a reading (sensorId, metric, tags). Callers on a hot path cache it by seriesIdentity. */
export function seriesFields(sensorId: string, metric: string, tags?: Readonly<Record<string, string>>): SeriesFields {
  const ga = tagPairs(tags);
  const k = createHash('sha256')
    .update(seriesIdentity(sensorId, metric, tags))
    .digest('base64url')
    .slice(0, 22);
  return { k, s: sensorId, m: metric, g: tags && ga.length > 0 ? { ...tags } : NO_TAGS, ga };
}

/** A string that is equal for two readings exactly when they belong to the same series. */
export function seriesIdentity(sensorId: string, metric: string, tags?: Readonly<Record<string, string>>): string {
  // JSON quotes every part, so no tag value (which may hold any character) can run into the next.
  return JSON.stringify([sensorId, metric, ...tagPairs(tags)]);
}
