// Unit checks of the Prometheus-text reader: labels, escapes, sums and histogram quantiles between scrapes.
import { describe, expect, it } from '@jest/globals';

import { Scrape } from './prometheus.js';

const histogram = (a: number, b: number, inf: number) =>
  [
    '# HELP d request duration',
    '# TYPE d histogram',
    `d_bucket{route="/x",le="0.1"} ${a}`,
    `d_bucket{route="/x",le="1"} ${b}`,
    `d_bucket{route="/x",le="+Inf"} ${inf}`,
  ].join('\n');

describe('Scrape', () => {
  it('reads labels with escapes and sums over label sets', () => {
    const s = Scrape.parse('c{a="x\\"y",b="1"} 2\nc{a="z"} 3 1700000000000\ng 1.5e3\n');
    expect(s.all('c', { a: 'x"y' })).toHaveLength(1);
    expect(s.sum('c')).toBe(5);
    expect(s.value('g')).toBe(1500);
    expect(s.value('absent')).toBe(0);
    expect(() => s.value('c')).toThrow('2 samples of c');
  });

  it('refuses a line that is not a sample', () => {
    expect(() => Scrape.parse('nonsense line here')).toThrow('not a Prometheus sample line');
  });

  it('gives the bucket bound of a quantile over the observations between two scrapes', () => {
    const before = Scrape.parse(histogram(10, 10, 10));
    expect(Scrape.parse(histogram(10, 19, 20)).quantileSince(before, 'd', 0.5)).toBe(1);
    expect(Scrape.parse(histogram(20, 20, 20)).quantileSince(before, 'd', 0.99)).toBe(0.1);
    expect(before.quantileSince(before, 'd', 0.5)).toBeNull();
  });
});
