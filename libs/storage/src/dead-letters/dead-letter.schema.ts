// The shape of a stored dead letter and the name of its collection.
import type { FunnelConfig } from '@funnel/config';

/** A Kafka record the worker could not use, as sent to the dead-letter topic. */
export interface DeadLetter {
  /** `<source topic>:<partition>:<offset>`: a replayed poison record maps to the same dead letter. */
  _id: string;
  sourceTopic: string;
  partition: number;
  offset: string;
  reason: string;
  key: string | null;
  value: string;
  deadLetteredAt: Date;
  replayedAt?: Date;
  replays?: number;
}

/** The regular collection beside the readings that holds the dead letters. */
export function deadLettersCollection(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): string {
  return `${config.MONGODB_COLLECTION}_dead_letters`;
}
