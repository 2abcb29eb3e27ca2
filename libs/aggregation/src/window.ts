/** Window names and durations, and the epoch-aligned bucket arithmetic over them. */
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const NAMED: Record<string, number> = { minute: UNIT_MS.m, hour: UNIT_MS.h, day: UNIT_MS.d };
const DURATION = /^([1-9]\d{0,5})(s|m|h|d)$/;
/** Longest window accepted: a year of days keeps bucket arithmetic far inside safe integers. */
export const MAX_WINDOW_MS = 366 * UNIT_MS.d;

/** Width in ms of a window name (`minute`, `hour`, `day`) or fixed duration (`30s`, `5m`, `6h`, `7d`), else undefined. */
export function parseWindow(window: string): number | undefined {
  if (Object.hasOwn(NAMED, window)) {
    return NAMED[window]!;
  }
  const match = DURATION.exec(window);
  if (!match) {
    return undefined;
  }
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms <= MAX_WINDOW_MS ? ms : undefined;
}

/** Start of the epoch-aligned UTC bucket holding `ts` (works for negative ts too). */
export function bucketStart(ts: number, binMs: number): number {
  return ts - (((ts % binMs) + binMs) % binMs);
}

/** How many buckets the half-open range [from, to) touches. */
export function bucketCount(from: number, to: number, binMs: number): number {
  if (to <= from) {
    return 0;
  }
  return (bucketStart(to - 1, binMs) - bucketStart(from, binMs)) / binMs + 1;
}
