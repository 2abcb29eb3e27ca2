/** Fewest readings a flush's insert is split down to (smaller calls cost more per reading than they overlap). */
export const MIN_WRITE_CHUNK = 1000;

/**
 * `items` in order, cut into at most `streams` consecutive chunks of near-equal size and of at least
 * `minChunk` items each (one chunk, whatever its size, when there are fewer than 2 × minChunk).
 */
export function evenChunks<T>(items: readonly T[], streams: number, minChunk: number): T[][] {
  const count = Math.max(1, Math.min(streams, Math.floor(items.length / minChunk)));
  const at = (i: number) => Math.floor((i * items.length) / count);
  return Array.from({ length: count }, (_, i) => items.slice(at(i), at(i + 1)));
}
