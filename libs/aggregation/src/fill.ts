/** Gap filling: what an empty bucket answers under each fill mode. */
export const FILL_MODES = ['none', 'null', 'zero', 'previous', 'linear'] as const;
export type FillMode = (typeof FILL_MODES)[number];

/** One bucket's values by function name (count included); null where undefined. */
export type BucketValues = Record<string, number | null>;

/** A bucket of one series: its start (epoch ms) and its values, or undefined when it holds no reading. */
export interface SeriesSlot {
  start: number;
  values?: BucketValues;
}

/**
 * The buckets a series answers under `fill`: `none` drops empty ones; the others keep every bucket, with
 * count 0 and the other functions null, 0, the previous non-empty bucket's values, or the linear
 * interpolation by bucket start between the neighbouring non-empty buckets (null where there is no neighbour).
 */
export function fillBuckets(
  slots: readonly SeriesSlot[],
  fns: readonly string[],
  fill: FillMode,
): Array<{ start: number; values: BucketValues }> {
  if (fill === 'none') {
    return slots.filter((s) => s.values).map((s) => ({ start: s.start, values: s.values! }));
  }
  const filled = (value: (fn: string, i: number) => number | null) => (i: number) =>
    Object.fromEntries(fns.map((fn) => [fn, fn === 'count' ? 0 : value(fn, i)]));
  const previous: Array<number | undefined> = [];
  const next: Array<number | undefined> = [];
  let seen: number | undefined;
  slots.forEach((s, i) => {
    previous[i] = seen;
    if (s.values) seen = i;
  });
  seen = undefined;
  for (let i = slots.length - 1; i >= 0; i--) {
    next[i] = seen;
    if (slots[i]!.values) seen = i;
  }
  const fillers: Record<Exclude<FillMode, 'none'>, (i: number) => BucketValues> = {
    null: filled(() => null),
    zero: filled(() => 0),
    previous: filled((fn, i) => (previous[i] === undefined ? null : slots[previous[i]].values![fn]!)),
    linear: filled((fn, i) => {
      const [a, b] = [previous[i], next[i]];
      if (a === undefined || b === undefined) return null;
      const [va, vb] = [slots[a]!.values![fn], slots[b]!.values![fn]];
      if (va === null || vb === null || va === undefined || vb === undefined) return null;
      const [ta, tb] = [slots[a]!.start, slots[b]!.start];
      return va + ((vb - va) * (slots[i]!.start - ta)) / (tb - ta);
    }),
  };
  return slots.map((s, i) => ({ start: s.start, values: s.values ?? fillers[fill](i) }));
}
