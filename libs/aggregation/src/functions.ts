/** The functions an aggregate query computes per bucket, from a bucket's mergeable statistics. */
import { sampleVariance, type StatGroup, type Stats } from '@funnel/storage';

const PLAIN = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'spread', 'stddev'] as const;
type PlainFn = (typeof PLAIN)[number];
/** Any number of integer digits, so that `p1000` is refused as out of range rather than as no function. */
const PERCENTILE = /^p(\d+(?:\.\d{1,6})?)$/;

/** The default of `fns`, and v1's fixed set. */
export const DEFAULT_FNS = ['count', 'avg', 'min', 'max', 'sum'] as const;

/** A function as asked (its name is its answer's field) and how to compute it. */
export interface AggregateFn {
  name: string;
  /** The quantile 0 < q <= 1 of a percentile `p<q·100>`. */
  quantile?: number;
}

/** A function of `fns`, or why it is not one. */
export function parseFn(name: string): AggregateFn | string {
  if ((PLAIN as readonly string[]).includes(name)) return { name };
  const match = PERCENTILE.exec(name);
  if (!match) {
    return `fns: ${JSON.stringify(name.slice(0, 40))} is not a function (expected ${PLAIN.join(', ')} or a percentile p<q> such as p50, p95, p99.9)`;
  }
  const q = Number(match[1]);
  if (!(q > 0 && q <= 100)) return `fns: percentile ${name.slice(0, 40)} is out of range (0 < q <= 100)`;
  return { name, quantile: q / 100 };
}

/** The statistics each function reads besides the count. */
const NEEDS: Record<PlainFn, StatGroup | undefined> = {
  count: undefined,
  sum: 'sum',
  avg: 'sum',
  min: 'range',
  max: 'range',
  first: 'first',
  last: 'last',
  spread: 'range',
  stddev: 'variance',
};

/** The statistics `fns` read (the count always): a source may leave the others out. */
export function statsNeeded(fns: readonly AggregateFn[]): Set<StatGroup> {
  const groups = new Set<StatGroup>();
  for (const fn of fns) {
    const group = fn.quantile !== undefined ? 'sketch' : NEEDS[fn.name as PlainFn];
    if (group) groups.add(group);
  }
  return groups;
}

/** The value of `fn` over a bucket's statistics (n > 0); null where it is not defined (stddev of one reading). */
export function computeFn(fn: AggregateFn, s: Stats): number | null {
  if (fn.quantile !== undefined) return s.sketch.quantile(fn.quantile);
  switch (fn.name as PlainFn) {
    case 'count':
      return s.n;
    case 'sum':
      return s.sum;
    case 'avg':
      return s.sum / s.n;
    case 'min':
      return s.min;
    case 'max':
      return s.max;
    case 'first':
      return s.fv;
    case 'last':
      return s.lv;
    case 'spread':
      return s.max - s.min;
    case 'stddev': {
      const variance = sampleVariance(s);
      return variance === null ? null : Math.sqrt(variance);
    }
  }
}
