// L_mongo: the ceiling for the worker's writes. The raw driver's unordered insertMany of pre-built
// documents shaped as Funnel stores them, into a collection created the way Funnel creates its own
// (time-series options + the series index; where the server made a regular collection, as the stand-in does, each
// document's _id is readingDocId of its key, as Funnel's), at Funnel's flush batch size, on the same server, each batch
// cut into the same concurrent chunks as Funnel's (FLUSH_WRITE_STREAMS) — and, for comparison, in one call.
// Run: node --import ./test/faults/register.mjs test/bench/mongo-ceiling.ts <uri> <batch> <total> <reps> <streams>
// Prints one JSON line: { docsPerSec: number[], oneStreamDocsPerSec: number[], clientCpuMicrosPerDoc: number[] }
// (one entry per rep): the last is this process's CPU (the driver's BSON encoding and I/O, user + system) per
// document inserted in the concurrent calls, a floor under the worker's own CPU per reading.
import { MongoClient } from 'mongodb';

import { evenChunks, MIN_WRITE_CHUNK, readingDocId } from '@funnel/storage';

const [uri, batchArg, totalArg, repsArg, streamsArg] = process.argv.slice(2);
const batch = Number(batchArg);
const total = Number(totalArg);
const reps = Number(repsArg);
const streams = Number(streamsArg ?? 1);
const client = new MongoClient(uri!, { serverSelectionTimeoutMS: 10_000 });
const db = client.db();

function docs(rep: number, from: number, keyedIds: boolean): object[] {
  const base = Date.now() - 3_600_000;
  return Array.from({ length: batch }, (_, i) => {
    const n = from + i;
    const id = `k:bench${rep}:${n}`;
    const meta =
      n % 3 === 0
        ? { sensorId: `s${n % 100}`, metric: `m${n % 2}`, tags: { site: `site-${n % 4}` } }
        : { sensorId: `s${n % 100}`, metric: `m${n % 2}` };
    const doc = {
      id,
      ts: new Date(base + n),
      meta,
      value: (n % 20000) / 100 - 50,
      src: `bench.points:${n % 3}:${Math.floor(n / 500)}`,
    };
    return keyedIds ? { _id: readingDocId({ id, sensorId: meta.sensorId, metric: meta.metric }), ...doc } : doc;
  });
}

/**
 * Docs/s inserting `total` documents in batches, each batch in up to `ways` concurrent insertMany calls, and this
 * process's CPU µs per document meanwhile.
 */
async function measure(name: string, rep: number, ways: number): Promise<{ rate: number; cpuPerDoc: number }> {
  await db.dropCollection(name).catch(() => undefined);
  await db.createCollection(name, { timeseries: { timeField: 'ts', metaField: 'meta', granularity: 'seconds' } });
  const collection = db.collection(name);
  await collection.createIndex({ 'meta.sensorId': 1, 'meta.metric': 1, ts: 1 }, { name: 'series_ts' });
  // As PointsRepository.ensureCollection finds out: a server without time-series collections made a plain one.
  const info = (await db.listCollections({}, { nameOnly: false }).toArray()).find((c) => c.name === name) as
    { type?: string; options?: { timeseries?: unknown } } | undefined;
  const keyedIds = !(info?.type === 'timeseries' || Boolean(info?.options?.timeseries));
  // Documents are built before the clock starts: this measures the driver and the server only.
  const batches = Array.from({ length: Math.ceil(total / batch) }, (_, b) => docs(rep, b * batch, keyedIds));
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (const b of batches) {
    await Promise.all(
      evenChunks(b, ways, MIN_WRITE_CHUNK).map((chunk) => collection.insertMany(chunk, { ordered: false })),
    );
  }
  const rate = total / ((performance.now() - started) / 1000);
  const cpu = process.cpuUsage(cpuBefore);
  await db.dropCollection(name);
  return { rate, cpuPerDoc: (cpu.user + cpu.system) / total };
}

const rates: number[] = [];
const oneStream: number[] = [];
const cpuPerDoc: number[] = [];
for (let rep = 0; rep < reps; rep++) {
  const concurrent = await measure(`ceiling_${rep}`, rep, streams);
  rates.push(concurrent.rate);
  cpuPerDoc.push(concurrent.cpuPerDoc);
  oneStream.push(streams === 1 ? concurrent.rate : (await measure(`ceiling_one_${rep}`, rep, 1)).rate);
}
process.stdout.write(
  `${JSON.stringify({ docsPerSec: rates, oneStreamDocsPerSec: oneStream, clientCpuMicrosPerDoc: cpuPerDoc })}\n`,
);
await client.close();
