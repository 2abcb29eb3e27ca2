// The shape of a stored dead letter, how its value keeps the record's bytes, and the name of its collection.
import { isUtf8 } from 'node:buffer';

import type { FunnelConfig } from '@funnel/config';

/** How a dead letter's `value` holds bytes that are not UTF-8 text. */
export const DEAD_LETTER_BASE64 = 'base64';

/** A Kafka record the worker could not use, as sent to the dead-letter topic. */
export interface DeadLetter {
  /** `<source topic>:<partition>:<offset>`: a replayed poison record maps to the same dead letter. */
  _id: string;
  sourceTopic: string;
  partition: number;
  offset: string;
  reason: string;
  key: string | null;
  /**
   * The record value; stored whole (the listing shows its first 64 KiB). The bytes as UTF-8 text when they are
   * valid UTF-8 (the only form of letters stored before `encoding`), else their base64 (see `encoding`).
   */
  value: string;
  /** `'base64'` when `value` is the base64 of bytes that are not valid UTF-8; absent when it is the text. */
  encoding?: typeof DEAD_LETTER_BASE64;
  deadLetteredAt: Date;
  replayedAt?: Date;
  replays?: number;
}

/** A dead letter as stored: the value split into a preview (listed) and the rest (read only for a replay). */
export interface StoredDeadLetter extends Omit<DeadLetter, 'value'> {
  /** The first DEAD_LETTER_PREVIEW_CHARS characters of the value. */
  value: string;
  /** The characters after the preview, when there are any and the value is at most DEAD_LETTER_MAX_CHARS. */
  valueRest?: string;
  /** Characters in the value (text or base64) as received; absent on letters stored before values were kept whole. */
  valueLength?: number;
  /** The replay that claimed this letter (compare-and-set on replayedAt), until it published or gave up. */
  replayClaim?: string;
}

/** Characters of a value the listing shows (and all that letters stored before this version kept). */
export const DEAD_LETTER_PREVIEW_CHARS = 64 * 1024;
/**
 * Longest value kept whole: up to 3 bytes a character stays well inside MongoDB's 16 MB document limit, and far
 * above Kafka's default 1 MiB record limit. A longer value keeps its preview only, and cannot be replayed.
 */
export const DEAD_LETTER_MAX_CHARS = 4 * 1024 * 1024;

/** A record value's bytes as a dead letter holds them: the text when it is valid UTF-8, else base64. */
export function deadLetterValue(bytes: Buffer): Pick<DeadLetter, 'value' | 'encoding'> {
  return isUtf8(bytes) ? { value: bytes.toString('utf8') } : { value: bytes.toString('base64'), encoding: 'base64' };
}

/** The record value's bytes back from a dead letter (of any version): exactly those deadLetterValue was given. */
export function deadLetterBytes(letter: Pick<DeadLetter, 'value' | 'encoding'>): Buffer {
  return Buffer.from(letter.value, letter.encoding === DEAD_LETTER_BASE64 ? 'base64' : 'utf8');
}

/** The regular collection beside the readings that holds the dead letters. */
export function deadLettersCollection(config: Pick<FunnelConfig, 'MONGODB_COLLECTION'>): string {
  return `${config.MONGODB_COLLECTION}_dead_letters`;
}
