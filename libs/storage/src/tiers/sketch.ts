// A mergeable quantile sketch with a 1 % relative-error guarantee (DDSketch), and its compact stored form.
import { DDSketch } from '@datadog/sketches-js';

/** Relative accuracy of every stored sketch: a quantile is within 1 % of the value at its rank. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

type Store = DDSketch['store'];

/** The key mapping every sketch shares (the same relative accuracy, so the same buckets). */
const MAPPING = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }).mapping;

/**
 * Buckets a sketch keeps as a short list before it takes DDSketch's dense stores. A dense sketch costs about
 * 2.3 KB of heap however few values it holds; most rollup minutes of a sensor reporting every 10–60 s hold one to
 * six, and a worker draining a backlog of such readings holds tens of thousands of them at once.
 */
export const SPARSE_MAX_BINS = 16;

/** Buckets as a flat list of key, count pairs, in the order they were first added. */
type Bins = number[];

/**
 * DDSketch (logarithmic buckets, positive and negative stores and a zero count) from @datadog/sketches-js.
 * Merging goes through the stores directly: the library's own `merge` leaves the negative store out. Until it
 * holds more than SPARSE_MAX_BINS buckets a sketch keeps them as lists (the same buckets, keys and counts the
 * dense stores would hold), so its stored form and its quantiles do not depend on which form it is in.
 */
export class QuantileSketch {
  /** The dense form; undefined while the buckets are few (then `pos`, `neg`, `zero` and `n` hold them). */
  private dd?: DDSketch;
  private pos: Bins = [];
  private neg: Bins = [];
  private zero = 0;
  private n = 0;

  private constructor() {}

  static empty(): QuantileSketch {
    return new QuantileSketch();
  }

  get count(): number {
    return this.dd ? this.dd.count : this.n;
  }

  /** Whether the sketch has taken the dense stores (for tests and memory accounting). */
  get dense(): boolean {
    return this.dd !== undefined;
  }

  add(value: number): void {
    if (this.dd) {
      this.dd.accept(value);
      return;
    }
    if (value > MAPPING.minPossible) addBin(this.pos, MAPPING.key(value), 1);
    else if (value < -MAPPING.minPossible) addBin(this.neg, MAPPING.key(-value), 1);
    else this.zero++;
    this.n++;
    this.densifyIfMany();
  }

  /** Adds every value of `other` into this sketch (exact: counts per bucket add). */
  merge(other: QuantileSketch): void {
    if (other.count === 0) return;
    if (other.dd) {
      const a = this.densify();
      const b = other.dd;
      a.store.merge(b.store);
      a.negativeStore.merge(b.negativeStore);
      a.zeroCount += b.zeroCount;
      a.count += b.count;
      return;
    }
    if (this.dd) {
      for (let i = 0; i < other.pos.length; i += 2) this.dd.store.add(other.pos[i]!, other.pos[i + 1]!);
      for (let i = 0; i < other.neg.length; i += 2) this.dd.negativeStore.add(other.neg[i]!, other.neg[i + 1]!);
      this.dd.zeroCount += other.zero;
      this.dd.count += other.n;
      return;
    }
    for (let i = 0; i < other.pos.length; i += 2) addBin(this.pos, other.pos[i]!, other.pos[i + 1]!);
    for (let i = 0; i < other.neg.length; i += 2) addBin(this.neg, other.neg[i]!, other.neg[i + 1]!);
    this.zero += other.zero;
    this.n += other.n;
    this.densifyIfMany();
  }

  /**
   * The value at rank ⌊q·(n−1)⌋ of the values added (0 ≤ q ≤ 1), within 1 % relative error; NaN when empty.
   */
  quantile(q: number): number {
    return this.densify().getValueAtQuantile(q);
  }

  /**
   * Stored form: varints of the zero count, then per store (positive, negative) the number of non-empty buckets
   * and, per bucket, the key as a zigzag delta from the previous key and its count. A bucket costs 2–4 bytes.
   */
  encode(): Buffer {
    const out: number[] = [];
    const stores = this.dd
      ? [nonEmpty(this.dd.store), nonEmpty(this.dd.negativeStore)]
      : [sortedBins(this.pos), sortedBins(this.neg)];
    varint(out, this.dd ? this.dd.zeroCount : this.zero);
    for (const bins of stores) {
      varint(out, bins.length);
      let previous = 0;
      for (const [key, count] of bins) {
        varint(out, zigzag(key - previous));
        varint(out, count);
        previous = key;
      }
    }
    return Buffer.from(out);
  }

  static decode(bytes: Uint8Array): QuantileSketch {
    const sketch = QuantileSketch.empty();
    const reader = { bytes, at: 0 };
    sketch.zero = readVarint(reader);
    let count = sketch.zero;
    for (const bins of [sketch.pos, sketch.neg]) {
      const size = readVarint(reader);
      let key = 0;
      for (let i = 0; i < size; i++) {
        key += unzigzag(readVarint(reader));
        const n = readVarint(reader);
        // The stored keys of a store are distinct: no lookup (a day's sketch holds hundreds of buckets).
        bins.push(key, n);
        count += n;
      }
    }
    sketch.n = count;
    sketch.densifyIfMany();
    return sketch;
  }

  private densifyIfMany(): void {
    if (this.pos.length + this.neg.length > 2 * SPARSE_MAX_BINS) this.densify();
  }

  /** The dense form, made from the lists on first need. */
  private densify(): DDSketch {
    if (this.dd) return this.dd;
    const dd = new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY });
    for (let i = 0; i < this.pos.length; i += 2) dd.store.add(this.pos[i]!, this.pos[i + 1]!);
    for (let i = 0; i < this.neg.length; i += 2) dd.negativeStore.add(this.neg[i]!, this.neg[i + 1]!);
    dd.zeroCount = this.zero;
    dd.count = this.n;
    this.dd = dd;
    this.pos = [];
    this.neg = [];
    return dd;
  }
}

function addBin(bins: Bins, key: number, count: number): void {
  for (let i = 0; i < bins.length; i += 2) {
    if (bins[i] === key) {
      bins[i + 1]! += count;
      return;
    }
  }
  bins.push(key, count);
}

function sortedBins(bins: Bins): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < bins.length; i += 2) pairs.push([bins[i]!, bins[i + 1]!]);
  return pairs.sort((a, b) => a[0] - b[0]);
}

function nonEmpty(store: Store): Array<[number, number]> {
  const bins: Array<[number, number]> = [];
  if (store.count === 0) return bins;
  for (let key = store.minKey; key <= store.maxKey; key++) {
    const n = store.bins[key - store.offset] ?? 0;
    if (n > 0) bins.push([key, n]);
  }
  return bins;
}

function varint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function readVarint(reader: { bytes: Uint8Array; at: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (reader.at >= reader.bytes.length) throw new Error('sketch bytes end inside a number');
    const byte = reader.bytes[reader.at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}
