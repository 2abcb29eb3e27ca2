// The stand-in's heap from the machine's memory, and the documents that heap may hold.
import { describe, expect, it } from '@jest/globals';

import { CAPACITY_SAFETY, DOCS_PER_GB_HEAP, standInSizing } from './stand-in-sizing.js';

const GB = 1024 ** 3;

describe('standInSizing', () => {
  it('gives half the memory of a roomy machine, and the capacity the measured docs per GB allow, with a margin', () => {
    expect(standInSizing(24 * GB)).toEqual({
      heapMb: 12 * 1024,
      capacityDocs: Math.floor((12 * DOCS_PER_GB_HEAP * CAPACITY_SAFETY) / 1000) * 1000,
    });
    expect(standInSizing(24 * GB).capacityDocs).toBe(5_280_000);
  });

  it('leaves 2 GB for Kafka, Funnel and the OS on a small machine, and never goes below 512 MB', () => {
    expect(standInSizing(3 * GB).heapMb).toBe(1024);
    expect(standInSizing(1 * GB).heapMb).toBe(512);
  });

  it('caps the heap at 16 GB on a big machine', () => {
    expect(standInSizing(128 * GB).heapMb).toBe(16 * 1024);
  });

  it('keeps the capacity below where the stand-in was seen to stall (549,005 readings with 1 GB)', () => {
    expect(standInSizing(3 * GB).capacityDocs).toBe(440_000);
    expect(standInSizing(3 * GB).capacityDocs).toBeLessThan(549_005);
  });

  it('bounds the H2 backend by its count stall, not by its heap', () => {
    expect(standInSizing(24 * GB, 'h2').capacityDocs).toBe(460_000);
  });
});
