/** Checks the record decoder against the PointsRecord contract and against what the api itself publishes. */
import { describe, expect, it } from '@jest/globals';

import { RecordRejected, decodePointsRecord } from './points-record.decoder.js';
import type { PointsRecord } from './points-record.js';
import { validatePoints } from './points.validator.js';
import { MAX_INSTANT_MS } from './reading-rules.js';

const NOW = Date.UTC(2026, 10, 28, 4, 0, 0);

function point(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'r:0123abcd:0', sensorId: 'boiler-7', metric: 'temperature', value: 21.5, ts: NOW, ...overrides };
}

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, receivedAt: NOW, points: [point()], ...overrides };
}

/** The RecordRejected that decoding `value` throws (fails the test if it does not throw one). */
function rejection(value: unknown): RecordRejected {
  let caught: unknown;
  try {
    decodePointsRecord(value);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(RecordRejected);
  return caught as RecordRejected;
}

/**
 * What the api publishes for a request body: validatePoints, then records of `perRecord` readings (marked
 * `idem` when the ids came from the client), then JSON.
 */
function published(body: unknown, perRecord: number, idem: boolean): Record<string, unknown>[] {
  const result = validatePoints(body, { maxPoints: 1000, maxFutureSkewMs: 300_000 }, NOW, { idPrefix: 'k:5f2c:' });
  if (!result.ok) {
    throw new Error(`fixture is invalid: ${JSON.stringify(result)}`);
  }
  const values: PointsRecord[] = [];
  for (let i = 0; i < result.points.length; i += perRecord) {
    const value: PointsRecord = { v: 1, receivedAt: NOW, points: result.points.slice(i, i + perRecord) };
    if (idem) value.idem = true;
    values.push(value);
  }
  // the Kafka hop: serialised by the producer, parsed by the consumer
  return values.map((v) => JSON.parse(JSON.stringify(v)) as Record<string, unknown>);
}

describe('decodePointsRecord accepts what the api publishes', () => {
  it.each([false, true])('decodes records built from validated readings unchanged (idem: %s)', (idem) => {
    const body = [
      { id: 'client-chosen:1', sensorId: 'with-id', metric: 'm', value: 9 },
      { sensorId: 'boiler-7', metric: 'temperature', value: 21.5 },
      { sensorId: 'a', metric: 'b', value: -1e308, ts: 0 },
      { sensorId: 's'.repeat(128), metric: 'm'.repeat(64), value: 0, ts: '2026-11-28T05:00:00.123+01:00' },
      { sensorId: 'x:y.z_w-1', metric: 'p', value: 1.7, ts: NOW + 300_000, tags: { site: 'plant-a', floor: '2' } },
      {
        sensorId: 'many-tags',
        metric: 'm',
        value: 3,
        tags: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'.repeat(256)])),
      },
      { sensorId: 'empty-tags', metric: 'm', value: 4, tags: {} },
    ];
    const values = published(body, 2, idem);
    expect(values).toHaveLength(4);
    for (const value of values) {
      expect(decodePointsRecord(value)).toEqual({ ...value, idem });
    }
  });

  it('returns the readings of the record in order', () => {
    const points = [point({ value: 1 }), point({ value: 2, tags: { a: 'b' } }), point({ value: 3, ts: 0 })];
    const decoded = decodePointsRecord(record({ points }));
    expect(decoded).toEqual({ v: 1, receivedAt: NOW, idem: false, points });
  });

  it('accepts the edges of each reading rule', () => {
    const points = [
      point({ id: 'i', sensorId: 'a', metric: 'b' }),
      point({ id: 'I'.repeat(128) }),
      point({ sensorId: 'A'.repeat(128), metric: 'B'.repeat(64) }),
      point({ ts: 0, value: 0 }),
      point({ ts: MAX_INSTANT_MS }),
      point({ tags: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, ''])) }),
    ];
    expect(decodePointsRecord(record({ points })).points).toEqual(points);
  });
});

describe('decodePointsRecord idem flag', () => {
  it('is true when the record says so and false when it is absent', () => {
    expect(decodePointsRecord(record({ idem: true })).idem).toBe(true);
    expect(decodePointsRecord(record()).idem).toBe(false);
    expect(decodePointsRecord(record({ idem: false })).idem).toBe(false);
  });
});

describe('decodePointsRecord exactTs flag', () => {
  it('is kept only beside idem (ids of timestamped bodies), and left out otherwise', () => {
    expect(decodePointsRecord(record({ idem: true, exactTs: true })).exactTs).toBe(true);
    expect(decodePointsRecord(record({ idem: true })).exactTs).toBeUndefined();
    expect(decodePointsRecord(record({ exactTs: true })).exactTs).toBeUndefined();
    expect(decodePointsRecord(record({ idem: true, exactTs: 'yes' })).exactTs).toBeUndefined();
  });
});

describe('decodePointsRecord rejects a value that is not a PointsRecord, saying why', () => {
  it('is a RecordRejected whose reason is its message', () => {
    const error = rejection(null);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RecordRejected');
    expect(error.message).toBe(error.reason);
    expect(error.pointIndex).toBeUndefined(); // no reading is at fault when the record itself is not one
  });

  it.each(['not json', '{"v":1}', ''])('rejects the undecoded string %j as not JSON', (value) => {
    expect(rejection(value).reason).toBe('value is not JSON');
  });

  it.each([null, undefined, 5, true, [], [record()]])('rejects the non-object %j', (value) => {
    expect(rejection(value).reason).toBe('value is not a JSON object');
  });

  it.each([undefined, 0, 2, '1', null, 1.5])('rejects the contract version %j', (v) => {
    const value = record({ v });
    if (v === undefined) delete value.v;
    expect(rejection(value).reason).toMatch(/^unsupported contract version/);
  });

  it.each([undefined, '123', null, NaN, Infinity, -Infinity])('rejects receivedAt %p', (receivedAt) => {
    const value = record({ receivedAt });
    if (receivedAt === undefined) delete value.receivedAt;
    expect(rejection(value).reason).toMatch(/receivedAt/);
  });

  it.each([undefined, [], {}, 'points', null, { 0: point(), length: 1 }])('rejects points %j', (points) => {
    const value = record({ points });
    if (points === undefined) delete value.points;
    expect(rejection(value).reason).toBe('points is not a non-empty array');
  });

  const badPoints: [string, unknown, RegExp][] = [
    ['null', null, /not an object/],
    ['a number', 5, /not an object/],
    ['an array', [point()], /not an object/],
    ['a missing id', point({ id: undefined }), /id/],
    ['an empty id', point({ id: '' }), /id/],
    ['a 129-character id', point({ id: 'i'.repeat(129) }), /id/],
    ['an id with a space', point({ id: 'a b' }), /id/],
    ['a numeric id', point({ id: 7 }), /id/],
    ['an empty sensorId', point({ sensorId: '' }), /sensorId/],
    ['a 129-character sensorId', point({ sensorId: 's'.repeat(129) }), /sensorId/],
    ['a sensorId with a slash', point({ sensorId: 'a/b' }), /sensorId/],
    ['a non-string sensorId', point({ sensorId: 7 }), /sensorId/],
    ['a missing metric', point({ metric: undefined }), /metric/],
    ['a 65-character metric', point({ metric: 'm'.repeat(65) }), /metric/],
    ['a metric with a space', point({ metric: 'a b' }), /metric/],
    ['a string value', point({ value: '1' }), /value/],
    ['a null value', point({ value: null }), /value/],
    ['a NaN value', point({ value: NaN }), /value/],
    ['an infinite value', point({ value: -Infinity }), /value/],
    ['a missing ts', point({ ts: undefined }), /ts/],
    ['an ISO ts (the wire carries epoch ms only)', point({ ts: '2026-11-28T04:00:00Z' }), /ts/],
    ['a negative ts', point({ ts: -1 }), /ts/],
    ['a fractional ts', point({ ts: 1.5 }), /ts/],
    ['an unsafe ts', point({ ts: 2 ** 53 }), /ts/],
    ['a ts past what a Date can hold', point({ ts: MAX_INSTANT_MS + 1 }), /ts/],
    ['null tags', point({ tags: null }), /tags/],
    ['array tags', point({ tags: ['a'] }), /tags/],
    ['17 tags', point({ tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }), /tags/],
    ['a non-string tag value', point({ tags: { a: 1 } }), /tags/],
    ['a 257-character tag value', point({ tags: { a: 'v'.repeat(257) } }), /tags/],
    ['a tag key with a space', point({ tags: { 'a b': 'v' } }), /tags/],
    [
      'an own __proto__ tag key',
      JSON.parse(`{"id":"x","sensorId":"s","metric":"m","value":1,"ts":0,"tags":{"__proto__":"x"}}`),
      /tags.*__proto__/,
    ],
    [
      'an own constructor tag key',
      JSON.parse(`{"id":"x","sensorId":"s","metric":"m","value":1,"ts":0,"tags":{"constructor":"x"}}`),
      /tags.*constructor/,
    ],
  ];

  it.each(badPoints)('rejects a reading with %s, naming its index', (_what, bad, reason) => {
    for (const index of [0, 2]) {
      const points: unknown[] = [point(), point(), point()];
      points[index] = bad;
      const error = rejection(record({ points }));
      expect(error.reason.startsWith(`points[${index}] `)).toBe(true);
      expect(error.pointIndex).toBe(index);
      expect(error.reason).toMatch(reason);
    }
  });

  it('names the first bad reading when several are bad', () => {
    const points = [point(), point(), point({ value: 'x' }), point({ sensorId: '' })];
    expect(rejection(record({ points })).reason).toMatch(/^points\[2\] .*value/);
  });
});
