// node --import ./test/faults/register.mjs test/bench/fleet-read.ts [--series 1000] [--hours 24] [--reps 7] [--other 0]
// The tier read of the fleet query (groupBy=tag.site&window=hour&fns=avg,p95 over a day) in isolation: a stand-in
// of its own holding the fleet's hour documents (60 readings each) and catalog, read by TierReader with every
// statistic and with only those avg and p95 need, beside driver scans of the same documents (every field, and
// only those fields as one read and as 4 `_id` ranges at once). `--other N` adds N hour documents of another
// metric, which every scan of the stand-in also passes over. Medians in ms.
// Run it under `flock /tmp/funnel-e2e.lock` like every bench.
import { parseArgs } from 'node:util';

import mongoose from 'mongoose';

import type { FunnelConfig } from '@funnel/config';
import { freePort, startMongo } from '@funnel/dev-infra';
import {
  HOUR_MS,
  SeriesCatalogRepository,
  seriesFields,
  statsOf,
  TierReader,
  TierStore,
  toStored,
  type StatGroup,
} from '@funnel/storage';

const { values } = parseArgs({
  options: {
    series: { type: 'string', default: '1000' },
    hours: { type: 'string', default: '24' },
    reps: { type: 'string', default: '7' },
    other: { type: 'string', default: '0' },
  },
});
const series = Number(values.series);
const hours = Number(values.hours);
const reps = Number(values.reps);
const other = Number(values.other);

const config = {
  MONGODB_COLLECTION: 'points',
  RETENTION_RAW: 'forever',
  RETENTION_MINUTE: 'forever',
  RETENTION_HOUR: 'forever',
  RETENTION_DAY: 'forever',
} as unknown as FunnelConfig;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(run: () => Promise<unknown>): Promise<{ median: number; min: number; max: number }> {
  await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
}

const mongo = await startMongo({ port: await freePort(), dbName: 'fleetread', heapMb: 1024 });
const connection = await mongoose.createConnection(mongo.uri).asPromise();
try {
  const store = new TierStore(connection, config);
  await store.ensureIndexes(false);
  const catalog = new SeriesCatalogRepository(connection, config);
  const reader = new TierReader(store, catalog, config);
  const from = Date.UTC(2026, 10, 1);
  const docs = [];
  const entries = [];
  for (let i = 0; i < series; i++) {
    const fields = seriesFields(`fleet-${i}`, 'fleet', { site: `site-${i % 10}` });
    entries.push({ series: fields, n: hours * 60, first: from, last: from + hours * HOUR_MS - 1 });
    for (let h = 0; h < hours; h++) {
      const ts = from + h * HOUR_MS;
      const readings = Array.from({ length: 60 }, (_, m) => ({
        ts: ts + m * 60_000 + (i % 60) * 1000,
        value: 20 + ((i * 7919 + h * 104729 + m * 31) % 1000) / 100,
      }));
      docs.push({ _id: `${fields.k}:${ts}`, ...fields, ts: new Date(ts), ...toStored(statsOf(readings)), w: 'w' });
    }
  }
  for (let i = 0; i < other; i++) {
    const fields = seriesFields(`other-${i % 1000}`, 'other');
    const ts = from - (Math.floor(i / 1000) + 1) * HOUR_MS;
    const readings = [{ ts, value: i }];
    docs.push({ _id: `${fields.k}:${ts}`, ...fields, ts: new Date(ts), ...toStored(statsOf(readings)), w: 'w' });
  }
  for (let i = 0; i < docs.length; i += 5000)
    await store.tier('hour').insertMany(docs.slice(i, i + 5000) as never, { ordered: false });
  await catalog.record(entries);
  console.log(`${series * hours} hour documents of ${series} series and ${other} others stored`);

  const bounds = Array.from({ length: hours + 1 }, (_, h) => from + h * HOUR_MS);
  const selector = { metrics: ['fleet'] };
  const read = (stats?: ReadonlySet<StatGroup>) => async () => {
    const answer = await reader.bucketStats(selector, bounds, { maxTimeMS: 60_000, maxRawReadings: 0, stats });
    if (answer.length !== series) throw new Error(`${answer.length} series read`);
  };
  const hour = store.tier('hour');
  const scan = await timed(() => hour.find({ m: 'fleet' }).toArray());
  const projection = Object.fromEntries(['k', 's', 'm', 'g', 'ts', 'n', 't', 'v', 'sum', 'q'].map((f) => [f, 1]));
  const projected = await timed(() => hour.find({ m: 'fleet' }, { projection }).toArray());
  const parts = [{ $lt: 'F' }, { $gte: 'F', $lt: 'V' }, { $gte: 'V', $lt: 'k' }, { $gte: 'k' }];
  const split = await timed(() =>
    Promise.all(parts.map((_id) => hour.find({ m: 'fleet', _id } as never, { projection }).toArray())),
  );
  // What the server spends passing over the collection alone (no document matches).
  const pass = await timed(() => hour.find({ m: 'none' }).toArray());
  const passSplit = await timed(() =>
    Promise.all(parts.map((_id) => hour.find({ m: 'none', _id } as never).toArray())),
  );
  const full = await timed(read());
  const avgP95 = await timed(read(new Set<StatGroup>(['sum', 'sketch'])));
  const count = await timed(read(new Set<StatGroup>()));
  const listed = await timed(async () => {
    let n = 0;
    for await (const one of catalog.overlapping(selector, from, from + hours * HOUR_MS, 60_000)) n += one ? 1 : 0;
    if (n !== series) throw new Error(`${n} series listed`);
  });
  const line = (name: string, t: { median: number; min: number; max: number }) =>
    console.log(
      `${name.padEnd(44)} ${t.median.toFixed(0).padStart(5)} ms (min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)})`,
    );
  line('driver find, one read, every field', scan);
  line('driver find, one read, n/sum/q', projected);
  line('driver find, 4 _id ranges at once, n/sum/q', split);
  line('a pass over the collection (nothing matches)', pass);
  line('4 passes at once (nothing matches)', passSplit);
  line('TierReader, every statistic', full);
  line('TierReader, avg and p95 (n, sum, q)', avgP95);
  line('TierReader, count only (n)', count);
  line('catalog: the series over the range (pre-check)', listed);
} finally {
  await connection.close();
  await mongo.stop();
}
