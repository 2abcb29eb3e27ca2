// Sizes the MongoDB stand-in from the machine's memory, and what that heap can hold before it stalls.

const MB = 1024 * 1024;

/** Measured: the memory backend holds about 0.55 M small documents per GB of heap, then stalls in full GCs. */
export const DOCS_PER_GB_HEAP = 550_000;
/** Share of that figure Funnel lets it fill: rollups, indexes and query work need heap too. */
export const CAPACITY_SAFETY = 0.8;
/** Left for everything else devstack runs (Kafka ~0.8 GB, api and worker, the OS and a shell). */
export const RESERVED_MB = 2048;
export const MIN_HEAP_MB = 512;
/** Past this a bigger heap only means longer full collections; a real MongoDB is the answer then. */
export const MAX_HEAP_MB = 16 * 1024;
/** Measured: the H2 backend stalls on a count over about 575k documents, whatever its heap. */
export const H2_STALL_DOCS = 575_000;

export interface StandInSizing {
  heapMb: number;
  /** Documents it may hold (MONGODB_CAPACITY_DOCS for Funnel). */
  capacityDocs: number;
}

/**
 * Half of the machine's memory, but never so much that less than RESERVED_MB is left for the rest of
 * the stack, clamped to MIN_HEAP_MB..MAX_HEAP_MB; the capacity follows from the heap with a safety margin
 * (for the H2 backend, from its count stall).
 */
export function standInSizing(totalMemBytes: number, backend: 'memory' | 'h2' = 'memory'): StandInSizing {
  const totalMb = Math.floor(totalMemBytes / MB);
  const heapMb = Math.min(MAX_HEAP_MB, Math.max(MIN_HEAP_MB, Math.min(Math.floor(totalMb / 2), totalMb - RESERVED_MB)));
  const stallsAt = backend === 'h2' ? H2_STALL_DOCS : (heapMb / 1024) * DOCS_PER_GB_HEAP;
  return { heapMb, capacityDocs: Math.floor((stallsAt * CAPACITY_SAFETY) / 1000) * 1000 };
}
