// Short-lived MongoDB reads of what a Funnel process stored, each on its own client so no test holds one open.
import { MongoClient, type Db } from 'mongodb';

/** Runs `read` against the database of `mongoUri` on a client that is closed afterwards. */
export async function withMongo<T>(mongoUri: string, read: (db: Db) => Promise<T>): Promise<T> {
  const client = new MongoClient(mongoUri, { serverSelectionTimeoutMS: 5000 });
  try {
    return await read(client.db());
  } finally {
    await client.close();
  }
}

/** How many readings (matching `filter`) are stored in the points collection. */
export function storedCount(mongoUri: string, filter: Record<string, unknown> = {}): Promise<number> {
  return withMongo(mongoUri, (db) => db.collection('points').countDocuments(filter));
}

/** What the rollup tiers of the `points` collection hold: documents and readings counted per tier. */
export interface TierTotals {
  /** Slices not yet compacted, and the readings in those a minute document does not hold yet. */
  slices: number;
  pendingN: number;
  minuteDocs: number;
  minuteN: number;
  hourDocs: number;
  hourN: number;
  dayDocs: number;
  dayN: number;
  /** Hours and days marked for a recompute. */
  marks: number;
}

/** Reads every tier collection (fine for test-sized data). */
/** How many readings a stored tier document or slice minute holds: its count, or one for a (t, v) reading. */
export function readingsIn(doc: Record<string, unknown>): number {
  if ('n' in doc) return Number(doc.n);
  return 'v' in doc ? 1 : 0;
}

export async function tierTotals(db: Db): Promise<TierTotals> {
  const all = (name: string) => db.collection(name).find({}).toArray();
  const [slices, minutes, hours, days, marks] = await Promise.all([
    all('points_slices'),
    all('points_m1'),
    all('points_h1'),
    all('points_d1'),
    db.collection('points_dirty').countDocuments(),
  ]);
  const byId = new Map(minutes.map((d) => [String(d._id), d]));
  // A slice document holds the minutes of one hour (`mins`; one written before that holds its minute at its top
  // level). A slice minute is held by its minute document once the document's high-water mark for the slice's
  // partition reaches the slice's last offset.
  const pending = slices.flatMap((s) =>
    (Array.isArray(s.mins) ? (s.mins as Array<Record<string, unknown>>) : [s]).filter((minute) => {
      const holder = byId.get(`${s.k}:${new Date(minute.ts as Date).getTime()}`);
      return !(holder && Number(s.oe) <= Number(holder.hw?.[`${s.t}:${s.p}`] ?? -1));
    }),
  );
  const sum = (docs: Array<Record<string, unknown>>) => docs.reduce((n, d) => n + readingsIn(d), 0);
  const pendingN = sum(pending);
  return {
    slices: slices.length,
    pendingN,
    minuteDocs: minutes.length,
    minuteN: sum(minutes),
    hourDocs: hours.length,
    hourN: sum(hours),
    dayDocs: days.length,
    dayN: sum(days),
    marks,
  };
}

/** Whether compaction and roll-ups are done: no slice pending, no mark, and every tier holds `readings`. */
export async function tiersSettled(mongoUri: string, readings: number): Promise<boolean> {
  const t = await withMongo(mongoUri, tierTotals);
  return t.slices === 0 && t.marks === 0 && t.minuteN === readings && t.hourN === readings && t.dayN === readings;
}
