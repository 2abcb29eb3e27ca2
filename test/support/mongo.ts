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
