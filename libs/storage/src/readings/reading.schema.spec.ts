// Specs of the stored reading's key-derived _id (regular collections: the stand-in, MongoDB < 5.0).
import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';
import { ObjectId } from 'mongodb';

import { readingDocId } from './reading.schema.js';

describe('readingDocId', () => {
  const reading = { id: 'b:0123456789abcdef01234567:7', sensorId: 'boiler-7', metric: 'temperature' };

  it('is an ObjectId of the first 12 bytes of SHA-1 of the reading key, the same in every process', () => {
    const id = readingDocId(reading);
    expect(id).toBeInstanceOf(ObjectId);
    const sha1 = createHash('sha1').update('b:0123456789abcdef01234567:7 boiler-7 temperature').digest('hex');
    expect(id.toHexString()).toBe(sha1.slice(0, 24));
    expect(readingDocId({ ...reading }).equals(id)).toBe(true);
  });

  it('depends on the id, the sensor and the metric, and on nothing else of the reading', () => {
    const ids = [
      readingDocId(reading),
      readingDocId({ ...reading, id: 'b:0123456789abcdef01234567:8' }),
      readingDocId({ ...reading, sensorId: 'boiler-8' }),
      readingDocId({ ...reading, metric: 'pressure' }),
    ].map((id) => id.toHexString());
    expect(new Set(ids).size).toBe(4);
    const withValue = { ...reading, value: 1.5, ts: 1_700_000_000_000, tags: { site: 'a' } };
    expect(readingDocId(withValue).toHexString()).toBe(ids[0]);
  });
});
