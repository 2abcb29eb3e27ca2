import { describe, expect, it } from '@jest/globals';

import { bucketCount, bucketStart, parseWindow } from './window.js';

describe('parseWindow', () => {
  it('knows the named windows', () => {
    expect(parseWindow('minute')).toBe(60_000);
  });
});
