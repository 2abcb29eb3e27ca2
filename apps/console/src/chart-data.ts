/** What Explore's chart draws, made from a GET /v2/aggregates answer (no DOM: unit-tested on its own). */
import { bucketValue, type AggregatesAnswer } from './api.js';

/**
 * A colour per series (they differ in lightness as well as hue) and a dash pattern per function, so lines stay
 * apart in grayscale and for colour-blind readers.
 */
const SERIES_COLOURS = ['#143d7a', '#b5451b', '#1d5e2a', '#6a3d9a', '#7a5c00', '#333333', '#5b9bd5', '#c2185b'];
const FN_DASHES: (number[] | undefined)[] = [undefined, [8, 4], [2, 3], [12, 3, 3, 3], [1, 3], [6, 2, 1, 2]];

export function lineStyle(seriesIndex: number, fnIndex: number): { stroke: string; dash?: number[]; width: number } {
  const dash = FN_DASHES[fnIndex % FN_DASHES.length];
  return { stroke: SERIES_COLOURS[seriesIndex % SERIES_COLOURS.length]!, width: dash ? 2 : 2.5, ...(dash && { dash }) };
}

/** A series' name from its groupBy key: the values joined, or `all` when everything is merged. */
export function seriesLabel(key: Record<string, string | null>): string {
  return (
    Object.values(key)
      .map((v) => v ?? '(none)')
      .join(' · ') || 'all'
  );
}

export interface ChartLine {
  label: string;
  key: Record<string, string | null>;
  fn: string;
  seriesIndex: number;
  fnIndex: number;
  /** One value per x; null where the series has no bucket there or the function no value. */
  values: (number | null)[];
}

/** What the chart draws, also left on window.funnelConsole.chart for tests and debugging. */
export interface ChartData {
  /** Bucket starts of every series, epoch ms, ascending. */
  x: number[];
  lines: ChartLine[];
}

declare global {
  interface Window {
    funnelConsole?: { chart?: ChartData };
  }
}

export function chartData(answer: AggregatesAnswer): ChartData {
  const x = [...new Set(answer.series.flatMap((s) => s.buckets.map((b) => Date.parse(b.start))))].sort((a, b) => a - b);
  const lines = answer.series.flatMap((s, seriesIndex) => {
    const byStart = new Map(s.buckets.map((b) => [Date.parse(b.start), b]));
    return answer.fns.map((fn, fnIndex) => ({
      label: `${seriesLabel(s.key)} ${fn}`,
      key: s.key,
      fn,
      seriesIndex,
      fnIndex,
      values: x.map((ms) => {
        const bucket = byStart.get(ms);
        return bucket ? bucketValue(bucket, fn) : null;
      }),
    }));
  });
  return { x, lines };
}
