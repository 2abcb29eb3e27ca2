// Which tier answers which part of each bucket: the coarsest whose periods lie whole inside the bucket.
import { periodStart, TIER_MS, TIERS, type Tier } from './tier.schema.js';

/** A part of one bucket answered by one source. */
export interface Slot {
  source: Tier | 'raw';
  from: number;
  to: number;
  bucket: number;
}

/**
 * Splits each bucket [bounds[i], bounds[i+1]) into day, hour and minute periods that lie wholly inside it,
 * coarsest first, and raw edges (the partial minutes at either end). `oldest` gives, per source, the first
 * instant it still holds (retention): a tier is used only for periods at or after it.
 */
export function planSlots(bounds: readonly number[], oldest: Readonly<Record<Tier | 'raw', number>>): Slot[] {
  const slots: Slot[] = [];
  for (let bucket = 0; bucket + 1 < bounds.length; bucket++) {
    split(bounds[bucket]!, bounds[bucket + 1]!, bucket, TIERS.length - 1, oldest, slots);
  }
  return slots;
}

function split(
  from: number,
  to: number,
  bucket: number,
  level: number,
  oldest: Readonly<Record<Tier | 'raw', number>>,
  out: Slot[],
): void {
  if (from >= to) return;
  if (level < 0) {
    out.push({ source: 'raw', from, to, bucket });
    return;
  }
  const tier = TIERS[level]!;
  const width = TIER_MS[tier];
  const keptFrom = oldest[tier];
  const first = Number.isFinite(keptFrom) ? Math.max(ceilTo(from, tier), ceilTo(keptFrom, tier)) : ceilTo(from, tier);
  const end = periodStart(to, tier);
  if (first >= end) {
    split(from, to, bucket, level - 1, oldest, out);
    return;
  }
  split(from, first, bucket, level - 1, oldest, out);
  for (let start = first; start < end; start += width)
    out.push({ source: tier, from: start, to: start + width, bucket });
  split(end, to, bucket, level - 1, oldest, out);
}

function ceilTo(ts: number, tier: Tier): number {
  const start = periodStart(ts, tier);
  return start === ts ? ts : start + TIER_MS[tier];
}

/** Adjacent slots of one source merged into ranges (for a query's `$or`). */
export function rangesOf(slots: readonly Slot[]): Array<{ from: number; to: number }> {
  const sorted = [...slots].sort((a, b) => a.from - b.from);
  const ranges: Array<{ from: number; to: number }> = [];
  for (const s of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && last.to === s.from) last.to = s.to;
    else ranges.push({ from: s.from, to: s.to });
  }
  return ranges;
}
