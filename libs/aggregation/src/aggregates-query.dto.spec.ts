/** Checks that from/to of an aggregates query take only instants a JavaScript Date can hold. */
import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { AggregatesQueryDto, INSTANT_PATTERN, INSTANT_RANGE, instantMs, parseInstant } from './aggregates-query.dto.js';

/** The validation errors of a query with these from/to values. */
function errors(from: string, to: string) {
  const dto = plainToInstance(AggregatesQueryDto, { sensorId: 's', metric: 'm', window: '1s', from, to });
  return validateSync(dto);
}

/** The properties validation refuses for a query with these from/to values. */
function refused(from: string, to: string): string[] {
  return errors(from, to).map((error) => error.property);
}

/** The messages validation gives for a query with these from/to values. */
function messages(from: string, to: string): string[] {
  return errors(from, to).flatMap((error) => Object.values(error.constraints ?? {}));
}

const outOfRange = (p: string) =>
  `${p} is out of range: an instant must lie within ±8,640,000,000,000,000 epoch ms ` +
  '(what a JavaScript Date holds: -271821-04-20T00:00:00Z to +275760-09-13T00:00:00Z)';
const malformed = (p: string) =>
  `${p} must be an ISO-8601 date-time with a zone (e.g. 2026-11-28T00:00:00Z) or integer epoch milliseconds`;

describe('AggregatesQueryDto from/to', () => {
  it.each([
    ['8640000000000000', 8.64e15],
    ['-8640000000000000', -8.64e15],
    ['0', 0],
    ['2026-11-28T00:00:00Z', Date.UTC(2026, 10, 28)],
  ])('accepts %s', (value, ms) => {
    expect(refused(value, value)).toEqual([]);
    expect(instantMs(value)).toBe(ms);
  });

  it.each(['8640000000000001', '-8640000000000001', '9007199254740993', '+275760-09-13T00:00:00.001Z'])(
    'refuses %s, which no Date can hold',
    (value) => {
      expect(refused(value, '0')).toEqual(['from']);
      expect(refused('0', value)).toEqual(['to']);
    },
  );

  it.each(['8640000000000001', '-8640000000000001', '9007199254740993'])(
    'says %s is out of range, naming the parameter and the range',
    (value) => {
      expect(messages(value, '0')).toEqual([outOfRange('from')]);
      expect(messages('0', value)).toEqual([outOfRange('to')]);
      expect(messages(value, value)).toEqual([outOfRange('from'), outOfRange('to')]);
    },
  );

  it.each(['+275760-09-13T00:00:00.001Z', 'yesterday', '1.5'])(
    'says %s is malformed, naming the parameter',
    (value) => {
      expect(messages(value, '0')).toEqual([malformed('from')]);
      expect(messages('0', value)).toEqual([malformed('to')]);
    },
  );

  it('names the range as what a Date holds', () => {
    expect(INSTANT_RANGE).toContain(`±${(8.64e15).toLocaleString('en-US')} epoch ms`);
    expect(new Date(Date.parse('-271821-04-20T00:00:00Z')).getTime()).toBe(-8.64e15);
    expect(new Date(Date.parse('+275760-09-13T00:00:00Z')).getTime()).toBe(8.64e15);
  });
});

describe('INSTANT_PATTERN, the documented from/to pattern', () => {
  const pattern = new RegExp(INSTANT_PATTERN);

  it.each([
    '0',
    '-1',
    '8640000000000000',
    '2026-11-28T00:00Z',
    '2026-11-28T00:00:00Z',
    '2026-11-28T00:00:00.123456789+01:00',
    '0001-01-01T00:00:00-12:00',
    '9999-12-31T23:59:59.9Z',
  ])('matches %s, which the api takes', (value) => {
    expect(parseInstant(value)).toBeDefined();
    expect(pattern.test(value)).toBe(true);
  });

  // Date.parse takes expanded (signed, six-digit) years; the api does not, and neither may the document.
  it.each([
    '+275760-09-13T00:00:00Z',
    '-271821-04-20T00:00:00Z',
    '+002026-11-28T00:00:00Z',
    '12026-11-28T00:00:00Z',
    '202611-11-28T00:00:00Z',
    '2026-11-28T00:00:00.1234567890Z',
    '2026-11-28T00:00:00',
    '2026-11-28',
  ])('refuses %s, as the api does', (value) => {
    expect(parseInstant(value)).toBeUndefined();
    expect(pattern.test(value)).toBe(false);
  });
});
