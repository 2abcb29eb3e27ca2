// A mergeable quantile sketch with a 1 % relative-error guarantee (DDSketch), and its compact stored form.
import { DDSketch } from '@datadog/sketches-js';

/** Relative accuracy of every stored sketch: a quantile is within 1 % of the value at its rank. */
export const SKETCH_RELATIVE_ACCURACY = 0.01;

type Store = DDSketch['store'];

/**
 * DDSketch (logarithmic buckets, positive and negative stores and a zero count) from @datadog/sketches-js.
 * Merging goes through the stores directly: the library's own `merge` leaves the negative store out.
 */
export class QuantileSketch {
  private constructor(private readonly dd: DDSketch) {}

  static empty(): QuantileSketch {
    return new QuantileSketch(new DDSketch({ relativeAccuracy: SKETCH_RELATIVE_ACCURACY }));
  }

  get count(): number {
    return this.dd.count;
  }

  add(value: number): void {
    this.dd.accept(value);
  }

  /** Adds every value of `other` into this sketch (exact: counts per bucket add). */
  merge(other: QuantileSketch): void {
    const a = this.dd;
    const b = other.dd;
    if (b.count === 0) return;
    a.store.merge(b.store);
    a.negativeStore.merge(b.negativeStore);
    a.zeroCount += b.zeroCount;
    a.count += b.count;
  }

  /**
   * The value at rank ⌊q·(n−1)⌋ of the values added (0 ≤ q ≤ 1), within 1 % relative error; NaN when empty.
   */
  quantile(q: number): number {
    return this.dd.getValueAtQuantile(q);
  }

  /**
   * Stored form: varints of the zero count, then per store (positive, negative) the number of non-empty buckets
   * and, per bucket, the key as a zigzag delta from the previous key and its count. A bucket costs 2–4 bytes.
   */
  encode(): Buffer {
    const out: number[] = [];
    varint(out, this.dd.zeroCount);
    for (const store of [this.dd.store, this.dd.negativeStore]) {
      const bins = nonEmpty(store);
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
    const dd = sketch.dd;
    const reader = { bytes, at: 0 };
    dd.zeroCount = readVarint(reader);
    let count = dd.zeroCount;
    for (const store of [dd.store, dd.negativeStore]) {
      const bins = readVarint(reader);
      let key = 0;
      for (let i = 0; i < bins; i++) {
        key += unzigzag(readVarint(reader));
        const n = readVarint(reader);
        store.add(key, n);
        count += n;
      }
    }
    dd.count = count;
    return sketch;
  }
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
