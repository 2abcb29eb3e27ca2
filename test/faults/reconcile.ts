// Compares what the fault suite's api acknowledged with what MongoDB stored: lost and duplicated readings.
import type { MongoClient } from 'mongodb';

import { expectedBuckets } from '../support/dataset.js';
import { ADMIN_AUTH } from '../support/env.js';
import { fingerprint, METRICS, SENSORS, type Ledger, type SentReading } from './load.js';

/** A stored reading as the spec defines it: `{ id, ts: Date, meta: { sensorId, metric, tags? }, value }`. */
interface StoredDoc {
  id?: unknown;
  ts?: unknown;
  meta?: { sensorId?: unknown; metric?: unknown };
  value?: unknown;
}

export interface Reconciliation {
  /** Readings answered 2xx. */
  acked: number;
  /** Documents in the scenario's `points` collection. */
  stored: number;
  /** Acked readings with no document. */
  lost: number;
  /** Readings (acked or not) stored more than once, counted by id and by (sensor, metric, ts). */
  duplicated: number;
  /** Readings never answered 2xx that are stored anyway (allowed, once). */
  unackedStored: number;
  /** Documents that match no reading the suite sent (e.g. a poison record that was stored). */
  foreign: number;
  /** Documents whose id or value differs from what was sent. */
  corrupted: number;
  /** What the aggregates must be computed from: acked readings plus non-acked ones that were stored once. */
  expected: SentReading[];
  /** A few examples of each problem, for the report. */
  samples: { lost: string[]; duplicated: string[]; foreign: string[]; corrupted: string[] };
}

export async function readStored(client: MongoClient, db: string): Promise<StoredDoc[]> {
  return client
    .db(db)
    .collection<StoredDoc>('points')
    .find({}, { projection: { _id: 0, id: 1, ts: 1, meta: 1, value: 1 } })
    .toArray();
}

/** Every sent reading against what MongoDB holds: lost, duplicated, stored without an ack, foreign, corrupted. */
export function reconcile(ledger: Ledger, docs: StoredDoc[]): Reconciliation {
  const byFingerprint = new Map<string, StoredDoc[]>();
  const idCount = new Map<string, number>();
  for (const doc of docs) {
    const ts = doc.ts instanceof Date ? doc.ts.getTime() : NaN;
    const key = fingerprint(String(doc.meta?.sensorId), String(doc.meta?.metric), ts);
    byFingerprint.set(key, [...(byFingerprint.get(key) ?? []), doc]);
    // A document without an id is reported as corrupted below, not as a copy of every other one.
    if (typeof doc.id === 'string' && doc.id.length > 0) idCount.set(doc.id, (idCount.get(doc.id) ?? 0) + 1);
  }
  const r: Reconciliation = {
    acked: 0,
    stored: docs.length,
    lost: 0,
    duplicated: 0,
    unackedStored: 0,
    foreign: 0,
    corrupted: 0,
    expected: [],
    samples: { lost: [], duplicated: [], foreign: [], corrupted: [] },
  };
  const sample = (list: string[], text: string) => list.length < 8 && list.push(text);
  const known = new Set<string>();

  ledger.dataset.readings.forEach((reading, seq) => {
    const key = fingerprint(reading.sensorId, reading.metric, reading.ts);
    known.add(key);
    const state = ledger.state[seq];
    const found = byFingerprint.get(key) ?? [];
    const label = reading.id ?? `seq ${seq} (api-derived id)`;
    if (state === 'unsent') {
      if (found.length) {
        r.foreign += found.length;
        sample(r.samples.foreign, `never sent, stored: ${label}`);
      }
      return;
    }
    if (state === 'acked') r.acked++;
    // Copies by id as well: the same id under another (sensor, ts) would be a corrupted copy, counted too.
    const copies = Math.max(
      found.length,
      ...found.map((d) => (typeof d.id === 'string' ? (idCount.get(d.id) ?? 0) : 0)),
    );
    if (copies === 0) {
      if (state === 'acked') {
        r.lost++;
        sample(r.samples.lost, label);
      }
      return;
    }
    if (state !== 'acked') r.unackedStored++;
    if (copies > 1) {
      r.duplicated++;
      sample(r.samples.duplicated, `${label} x${copies} (ids ${found.map((d) => String(d.id)).join(', ')})`);
    }
    const bad = found.filter(
      (d) =>
        d.value !== reading.value ||
        typeof d.id !== 'string' ||
        d.id.length === 0 ||
        (reading.id !== undefined && d.id !== reading.id),
    );
    if (bad.length) {
      r.corrupted += bad.length;
      sample(r.samples.corrupted, `${label}: stored ${JSON.stringify(bad[0])}`);
    }
    if (copies === 1 || state === 'acked') r.expected.push(reading);
  });
  for (const [key, found] of byFingerprint) {
    if (!known.has(key)) {
      r.foreign += found.length;
      sample(r.samples.foreign, JSON.stringify(found[0]));
    }
  }
  return r;
}

/**
 * GET /v1/aggregates per minute for every series against the same buckets computed here from the
 * readings that must be stored. Returns the differences (empty when equal).
 */
export async function compareAggregates(
  api: string,
  expected: SentReading[],
  span: { from: number; to: number },
): Promise<string[]> {
  const problems: string[] = [];
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  for (const sensorId of SENSORS) {
    for (const metric of METRICS) {
      const qs = new URLSearchParams({
        sensorId,
        metric,
        from: new Date(span.from).toISOString(),
        to: new Date(span.to).toISOString(),
        window: 'minute',
      });
      const want = expectedBuckets(expected, { sensorId, metric, from: span.from, to: span.to, binMs: 60_000 });
      let got: Array<{ start: string; count: number; sum: number; min: number; max: number; avg: number }>;
      try {
        const res = await fetch(`${api}/v1/aggregates?${qs}`, {
          headers: ADMIN_AUTH,
          signal: AbortSignal.timeout(20_000),
        });
        const text = await res.text();
        if (res.status !== 200) {
          problems.push(`${sensorId}/${metric}: ${res.status} ${text.slice(0, 200)}`);
          continue;
        }
        got = (JSON.parse(text) as { buckets: typeof got }).buckets;
      } catch (error) {
        problems.push(`${sensorId}/${metric}: ${(error as Error).message}`);
        continue;
      }
      const wantByStart = new Map(want.map((b) => [b.start, b]));
      const gotByStart = new Map(got.map((b) => [b.start, b]));
      for (const start of new Set([...wantByStart.keys(), ...gotByStart.keys()])) {
        const w = wantByStart.get(start);
        const g = gotByStart.get(start);
        const ok =
          w &&
          g &&
          g.count === w.count &&
          g.min === w.min &&
          g.max === w.max &&
          close(g.sum, w.sum) &&
          close(g.avg, w.avg);
        if (!ok) {
          problems.push(
            `${sensorId}/${metric} ${start}: expected ${JSON.stringify(w ?? null)}, got ${JSON.stringify(g ?? null)}`,
          );
        }
      }
    }
  }
  return problems;
}

/** How many of the acked readings chosen by `pick` (by sequence number) have no document. */
export function missing(ledger: Ledger, docs: StoredDoc[], pick: (seq: number) => boolean): number {
  const stored = new Set(
    docs.map((d) =>
      fingerprint(String(d.meta?.sensorId), String(d.meta?.metric), d.ts instanceof Date ? d.ts.getTime() : NaN),
    ),
  );
  return ledger.dataset.readings.filter(
    (r, seq) => ledger.state[seq] === 'acked' && pick(seq) && !stored.has(fingerprint(r.sensorId, r.metric, r.ts)),
  ).length;
}
