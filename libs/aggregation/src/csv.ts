/** CSV (RFC 4180) of an aggregates answer: `start,<groupBy columns>,<fns>`, one row per bucket per series. */
import type { AnsweredSeries } from './aggregate.engine.js';

/** A field quoted when it holds a comma, a quote or a line break; null is an empty field. */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function aggregatesCsv(
  series: readonly AnsweredSeries[],
  groupBy: readonly string[],
  fns: readonly string[],
): string {
  const lines = [['start', ...groupBy, ...fns].map(csvField).join(',')];
  for (const s of series) {
    const key = groupBy.map((field) => csvField(s.key[field]));
    for (const b of s.buckets) {
      lines.push([new Date(b.start).toISOString(), ...key, ...fns.map((fn) => csvField(b.values[fn]))].join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
