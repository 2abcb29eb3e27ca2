// An independent calculation of what each rollup tier document must hold, by plain loops over the readings sent.
import { QuantileSketch } from '@funnel/storage';

/** A reading as the tests send it, with tags. */
export interface TaggedReading {
  sensorId: string;
  metric: string;
  tags?: Record<string, string>;
  ts: number;
  value: number;
}

export const PERIOD_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type Period = keyof typeof PERIOD_MS;

/** The series of a reading or a tier document, as one comparable string. */
export function seriesOf(sensorId: string, metric: string, tags: Record<string, string> | undefined): string {
  return JSON.stringify([sensorId, metric, Object.entries(tags ?? {}).sort()]);
}

/** The exact statistics of one series in one period. */
export interface ExactStats {
  n: number;
  sum: number;
  min: number;
  max: number;
  ft: number;
  fv: number;
  lt: number;
  lv: number;
  variance: number | null;
  sorted: number[];
}

/** Per `<series>|<period start>`, the exact statistics of the readings in it. */
export function exactByPeriod(readings: readonly TaggedReading[], period: Period): Map<string, ExactStats> {
  const width = PERIOD_MS[period];
  const groups = new Map<string, TaggedReading[]>();
  for (const r of readings) {
    const key = `${seriesOf(r.sensorId, r.metric, r.tags)}|${r.ts - (r.ts % width)}`;
    const group = groups.get(key) ?? [];
    group.push(r);
    groups.set(key, group);
  }
  const out = new Map<string, ExactStats>();
  for (const [key, group] of groups) {
    const values = group.map((r) => r.value);
    const n = values.length;
    const sum = values.reduce((a, b) => a + b, 0);
    const mean = sum / n;
    const ft = Math.min(...group.map((r) => r.ts));
    const lt = Math.max(...group.map((r) => r.ts));
    out.set(key, {
      n,
      sum,
      min: Math.min(...values),
      max: Math.max(...values),
      ft,
      // Ties on the first (last) timestamp: the smaller (larger) value, as documented.
      fv: Math.min(...group.filter((r) => r.ts === ft).map((r) => r.value)),
      lt,
      lv: Math.max(...group.filter((r) => r.ts === lt).map((r) => r.value)),
      variance: n < 2 ? null : values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1),
      sorted: [...values].sort((a, b) => a - b),
    });
  }
  return out;
}

/** A stored tier document's statistics, compared to the exact ones; the list of differences (empty when equal). */
export function differences(doc: Record<string, unknown>, exact: ExactStats): string[] {
  const problems: string[] = [];
  const num = (field: string) => Number(doc[field]);
  const time = (field: string) => new Date(doc[field] as Date).getTime();
  // A document of one reading holds that reading's time and value only.
  if (!('n' in doc)) {
    if (exact.n !== 1) problems.push(`one reading (t, v) stored for ${exact.n} readings`);
    if (time('t') !== exact.ft) problems.push(`t ${time('t')} != ${exact.ft}`);
    if (num('v') !== exact.fv) problems.push(`v ${num('v')} != ${exact.fv}`);
    return problems;
  }
  for (const [field, want] of [
    ['n', exact.n],
    ['sum', exact.sum],
    ['min', exact.min],
    ['max', exact.max],
    ['fv', exact.fv],
    ['lv', exact.lv],
  ] as const) {
    if (num(field) !== want) problems.push(`${field} ${num(field)} != ${want}`);
  }
  if (time('ft') !== exact.ft) problems.push(`ft ${time('ft')} != ${exact.ft}`);
  if (time('lt') !== exact.lt) problems.push(`lt ${time('lt')} != ${exact.lt}`);
  const n = num('n');
  const variance = n < 2 ? null : num('m2') / (n - 1);
  if (
    exact.variance === null
      ? variance !== null
      : Math.abs(variance! - exact.variance) > 1e-9 * Math.max(1, exact.variance)
  ) {
    problems.push(`variance ${variance} != ${exact.variance}`);
  }
  const q = doc.q as { buffer?: Uint8Array } | Uint8Array;
  const sketch = QuantileSketch.decode(q instanceof Uint8Array ? q : q.buffer!);
  for (const quantile of [0, 0.25, 0.5, 0.9, 0.99, 1]) {
    const want = exact.sorted[Math.floor(quantile * (exact.sorted.length - 1))]!;
    const got = sketch.quantile(quantile);
    const ok = want === 0 ? got === 0 : Math.abs(got - want) <= 0.01 * Math.abs(want);
    if (!ok) problems.push(`p${quantile * 100} ${got} not within 1 % of ${want}`);
  }
  return problems;
}
