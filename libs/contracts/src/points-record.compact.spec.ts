/** The compact record encoding: what the api encodes the worker decodes unchanged, and corrupt records are refused. */
import { describe, expect, it } from '@jest/globals';

import { encodePointsRecord, isCompactRecord } from './points-record.compact.js';
import { RecordRejected, decodePointsRecord } from './points-record.decoder.js';
import type { PointsRecord, WirePoint } from './points-record.js';
import { validatePoints } from './points.validator.js';

const NOW = Date.UTC(2026, 10, 28, 4, 0, 0);

/** Readings as the api publishes them: validated, with api-made, key-derived and client-chosen ids. */
function validated(prefix: string): WirePoint[] {
  const body = [
    { sensorId: 'boiler-7', metric: 'temperature', value: 21.5 },
    { sensorId: 'boiler-7', metric: 'pressure', value: -0.25, ts: NOW - 1 },
    { id: 'client-chosen', sensorId: 'with-id', metric: 'm', value: 9 },
    { id: 'a:007', sensorId: 'leading-zero', metric: 'm', value: 1 },
    { id: 'n:1234567890', sensorId: 'ten-digits', metric: 'm', value: 2 },
    { id: 'x:12a', sensorId: 'not-a-number', metric: 'm', value: 3 },
    { id: '42', sensorId: 'no-colon', metric: 'm', value: 4 },
    { sensorId: 'a', metric: 'b', value: -1e308, ts: 0 },
    { sensorId: 's'.repeat(128), metric: 'm'.repeat(64), value: 0, ts: '2026-11-28T05:00:00.123+01:00' },
    { sensorId: 'tagged', metric: 'p', value: 1.7, tags: { site: 'plant-ä', floor: '2', empty: '' } },
    { sensorId: 'tagged', metric: 'q', value: 1.8, tags: { site: 'plant-ä', floor: '2', empty: '' } },
    { sensorId: 'other-tags', metric: 'p', value: 5e-324, tags: { site: 'plant-b' } },
  ];
  const result = validatePoints(body, { maxPoints: 1000, maxFutureSkewMs: 300_000 }, NOW, { idPrefix: prefix });
  if (!result.ok) throw new Error(`fixture is invalid: ${JSON.stringify(result)}`);
  return result.points;
}

/** The RecordRejected that decoding `value` throws. */
const rejection = (value: unknown): RecordRejected => {
  const decode = () => decodePointsRecord(value);
  expect(decode).toThrow(RecordRejected);
  return captured(decode) as RecordRejected;
};
const captured = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

const point = (overrides: Partial<WirePoint> = {}): WirePoint => ({
  id: 'r:0123abcd:0',
  sensorId: 'boiler-7',
  metric: 'temperature',
  value: 21.5,
  ts: NOW,
  ...overrides,
});
const compact = (points: WirePoint[], extra: Partial<PointsRecord> = {}) =>
  encodePointsRecord({ v: 1, receivedAt: NOW, points, ...extra });

describe('encodePointsRecord → decodePointsRecord', () => {
  it.each([
    ['api-made ids', 'r:5f2c0a:17:', {}],
    ['key-derived ids, idem', 'k:5f2c:', { idem: true }],
    ['content ids, idem and exactTs', 'b:5f2c:', { idem: true, exactTs: true }],
  ])('gives back the readings and flags the api encoded (%s)', (_, prefix, flags) => {
    const points = validated(prefix);
    const record: PointsRecord = { v: 1, receivedAt: NOW + 0.5, ...flags, points };
    const value = encodePointsRecord(record);
    expect(isCompactRecord(value)).toBe(true);
    const decoded = decodePointsRecord(value);
    expect(decoded).toEqual({ idem: false, ...record });
    // As a JSON record of the same readings decodes (the earlier encoding, still read).
    expect(decoded.points).toEqual(decodePointsRecord(JSON.parse(JSON.stringify(record))).points);
  });

  it('is a fraction of the JSON record for a packed record of 500 readings', () => {
    const points = Array.from({ length: 500 }, (_, i) =>
      point({ id: `r:0123456789abcdef1a:${i}`, sensorId: `lt-s${i % 100}`, metric: `m${i % 2}`, ts: NOW + i }),
    );
    const record: PointsRecord = { v: 1, receivedAt: NOW, points };
    const bytes = compact(points).length;
    expect(bytes).toBeLessThan(0.5 * JSON.stringify(record).length);
    expect(decodePointsRecord(compact(points)).points).toEqual(points);
  });

  it('keeps exactTs only beside idem', () => {
    expect(decodePointsRecord(compact([point()], { exactTs: true }))).toMatchObject({ idem: false });
    expect(decodePointsRecord(compact([point()], { exactTs: true })).exactTs).toBeUndefined();
  });
});

describe('decodePointsRecord refuses a corrupt compact record, saying why', () => {
  it.each([
    ['an invalid id', { id: 'bad id!' }, 'points[0] has an invalid id'],
    ['an invalid id prefix', { id: 'bad id:7' }, 'points[0] has an invalid id'],
    ['an id too long', { id: `${'a'.repeat(127)}:12` }, 'points[0] has an invalid id'],
    ['an invalid sensorId', { sensorId: 'has space' }, 'points[0] has an invalid sensorId'],
    ['an invalid metric', { metric: 'm'.repeat(65) }, 'points[0] has an invalid metric'],
    ['a value not finite', { value: Number.NaN }, 'points[0] has a value that is not a finite number'],
    ['a negative ts', { ts: -1 }, 'points[0] has a ts that is not non-negative epoch milliseconds a Date can hold'],
    ['a fractional ts', { ts: 1.5 }, 'points[0] has a ts that is not non-negative epoch milliseconds a Date can hold'],
    [
      'tags with a forbidden key',
      { tags: JSON.parse('{"__proto__":"x"}') as Record<string, string> },
      'points[0] has invalid tags: key "__proto__" is not allowed',
    ],
  ])('%s', (_, overrides, reason) => {
    const error = rejection(compact([point(overrides)]));
    expect(error.reason).toBe(reason);
    expect(error.pointIndex).toBe(0);
  });

  it('names the first bad reading', () => {
    expect(rejection(compact([point(), point({ id: 'r:1', metric: '' }), point({ value: Infinity })])).reason).toBe(
      'points[1] has an invalid metric',
    );
  });

  it('refuses truncated records, trailing bytes, string indexes out of range and unknown versions', () => {
    const value = compact([point({ tags: { site: 'a' } })]);
    for (const cut of [0, 2, 23, 24, 40, value.length - 1]) {
      expect(rejection(value.subarray(0, cut)).reason).toMatch(cut < 2 ? /contract version/ : /truncated/);
    }
    expect(rejection(Buffer.concat([value, Buffer.from([0])])).reason).toBe(
      'compact record has bytes after its strings',
    );
    const badIndex = Buffer.from(value);
    badIndex.writeUInt32LE(99, 24 + 16); // the sensorId index of reading 0
    expect(rejection(badIndex).reason).toBe('points[0] refers to a string the record does not have');
    const v3 = Buffer.from(value);
    v3[2] = 3;
    expect(rejection(v3).reason).toBe('unsupported compact record format 3');
    const empty = compact([]);
    expect(rejection(empty).reason).toBe('points is not a non-empty array');
    const noTime = Buffer.from(value);
    noTime.writeDoubleLE(Number.NaN, 8);
    expect(rejection(noTime).reason).toBe('receivedAt is not a number');
  });

  it('leaves other binary values to the JSON rules (not a record)', () => {
    expect(rejection(Buffer.from([0, 1, 2, 3])).reason).toBe('unsupported contract version undefined');
  });
});
