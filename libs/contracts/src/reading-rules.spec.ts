/** Checks the instant range of parseTimestamp and the cap on the problems a 400 lists. */
import { describe, expect, it } from '@jest/globals';

import { MAX_INSTANT_MS, MAX_LISTED_ERRORS, isInstantMs, listedErrors, parseTimestamp } from './reading-rules.js';

describe('parseTimestamp: instants a JavaScript Date can represent', () => {
  it('is the range of Date', () => {
    expect(MAX_INSTANT_MS).toBe(8_640_000_000_000_000);
    expect(new Date(MAX_INSTANT_MS).toISOString()).toBe('+275760-09-13T00:00:00.000Z');
    expect(Number.isNaN(new Date(MAX_INSTANT_MS + 1).getTime())).toBe(true);
  });

  it.each([0, -1, MAX_INSTANT_MS, -MAX_INSTANT_MS])('accepts the number %p', (ms) => {
    expect(parseTimestamp(ms)).toBe(ms);
    expect(isInstantMs(ms)).toBe(true);
  });

  it.each([MAX_INSTANT_MS + 1, -MAX_INSTANT_MS - 1, 8_640_000_000_000_002, Number.MAX_SAFE_INTEGER, 2 ** 53])(
    'refuses the number %p',
    (ms) => {
      expect(parseTimestamp(ms)).toBeUndefined();
      expect(isInstantMs(ms)).toBe(false);
    },
  );

  it('accepts the last ISO year it matches and refuses expanded years beyond a Date', () => {
    expect(parseTimestamp('9999-12-31T23:59:59.999Z')).toBe(Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    expect(parseTimestamp('+275760-09-13T00:00:00.001Z')).toBeUndefined();
  });
});

describe('listedErrors: at most MAX_LISTED_ERRORS problems, the rest counted', () => {
  it('lists up to the cap unchanged, without a count', () => {
    const errors = Array.from({ length: MAX_LISTED_ERRORS }, (_, i) => i);
    expect(listedErrors(errors)).toEqual({ errors });
    expect(Object.keys(listedErrors([1]))).toEqual(['errors']); // the answer's shape is unchanged below the cap
  });

  it('lists the first MAX_LISTED_ERRORS and counts the rest', () => {
    const errors = Array.from({ length: 10_000 }, (_, i) => i);
    const listed = listedErrors(errors);
    expect(listed.errors).toEqual(errors.slice(0, MAX_LISTED_ERRORS));
    expect(listed.moreErrors).toBe(10_000 - MAX_LISTED_ERRORS);
  });
});
