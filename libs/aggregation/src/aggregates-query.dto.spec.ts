/** Checks that from/to of an aggregates query take only instants a JavaScript Date can hold. */
import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { AggregatesQueryDto, instantMs } from './aggregates-query.dto.js';

/** The properties validation refuses for a query with these from/to values. */
function refused(from: string, to: string): string[] {
  const dto = plainToInstance(AggregatesQueryDto, { sensorId: 's', metric: 'm', window: '1s', from, to });
  return validateSync(dto).map((error) => error.property);
}

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
});
