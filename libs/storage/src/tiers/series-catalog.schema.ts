// The series catalog: one document per series (sensorId, metric, tag set), maintained by the worker at flush.
import type { FunnelConfig } from '@funnel/config';

export interface SeriesCatalogDoc {
  /** The series key (see seriesKey). */
  _id: string;
  s: string;
  m: string;
  /** Tags, as stored on the readings, and as `key=value` strings for filters. */
  g: Record<string, string>;
  ga: string[];
  /** Earliest and latest reading time, and readings counted (exact once their slices are compacted). */
  first: Date;
  last: Date;
  n: number;
}

/** A catalog entry as the api lists it. */
export interface SeriesEntry {
  sensorId: string;
  metric: string;
  tags: Record<string, string>;
  firstTs: string;
  lastTs: string;
  count: number;
}

export function seriesCatalogCollection(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): string {
  return `${config.MONGODB_COLLECTION}_series`;
}
