// Tells "MongoDB is unreachable" apart from a bad operation, so reads answer 503 and writes are retried.
import {
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { MongooseError } from 'mongoose';

import { DependencyUnavailable } from '@funnel/contracts';

/** MongoDB could not be reached; reads answer 503, writes are retried. */
export class StorageUnavailable extends DependencyUnavailable {
  constructor(cause: unknown) {
    super('mongodb', `MongoDB is not reachable: ${(cause as Error)?.message ?? String(cause)}`, cause);
    this.name = 'StorageUnavailable';
  }
}

/** Whether an error means "no usable connection" rather than a bad operation. */
export function isConnectionError(error: unknown): boolean {
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoTopologyClosedError ||
    // mongoose refuses operations before the first connection when bufferCommands is off
    (error instanceof MongooseError && /initial connection|not connected/i.test(error.message))
  );
}

/** Runs a storage operation, turning a lost connection into StorageUnavailable. */
export async function orUnavailable<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw isConnectionError(error) ? new StorageUnavailable(error) : error;
  }
}
