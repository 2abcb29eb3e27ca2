/** groupBy: which fields of a series make the key its statistics merge under. */
import type { SeriesId } from '@funnel/storage';

/** A groupBy field: `sensorId`, `metric` or `tag.<key>`. */
export type GroupField = string;

/** The key of a group: exactly the groupBy fields; a tag the series does not have is null. */
export type GroupKey = Record<string, string | null>;

export const DEFAULT_GROUP_BY: readonly GroupField[] = ['sensorId', 'metric'];

/** The group key of a series. */
export function groupKeyOf(series: SeriesId, groupBy: readonly GroupField[]): GroupKey {
  const key: GroupKey = {};
  for (const field of groupBy) {
    if (field === 'sensorId') key[field] = series.sensorId;
    else if (field === 'metric') key[field] = series.metric;
    else key[field] = Object.hasOwn(series.tags, field.slice(4)) ? series.tags[field.slice(4)]! : null;
  }
  return key;
}

/** Orders keys field by field in groupBy order, null before any value, values by code unit. */
export function compareKeys(a: GroupKey, b: GroupKey, groupBy: readonly GroupField[]): number {
  for (const field of groupBy) {
    const [x, y] = [a[field] ?? null, b[field] ?? null];
    if (x === y) continue;
    if (x === null) return -1;
    if (y === null) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
