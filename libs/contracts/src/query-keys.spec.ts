/** Checks that a query DTO is the one list of its query's keys, in the order the 400 messages name them. */
import { describe, expect, it } from '@jest/globals';
import { IsDefined, IsInt, IsOptional, IsString } from 'class-validator';

import { queryKeysOf, unknownQueryKeys } from './query-keys.js';

class SampleQueryDto {
  @IsDefined()
  @IsString()
  sensorId!: string;

  @IsOptional()
  @IsInt()
  limit?: number;

  @IsString()
  window!: string;
}

describe('query keys', () => {
  it('are the properties the DTO validates, once each, in declaration order', () => {
    expect(queryKeysOf(SampleQueryDto)).toEqual(['sensorId', 'limit', 'window']);
  });

  it('name every parameter outside them, and accept a query that uses only them', () => {
    const allowed = queryKeysOf(SampleQueryDto);
    expect(unknownQueryKeys({ sensorId: 'a', window: 'hour' }, allowed)).toEqual([]);
    expect(unknownQueryKeys({ sensorId: 'a', metric: 'm', __proto__x: '' }, allowed)).toEqual([
      'query parameter "metric" is not known (expected: sensorId, limit, window)',
      'query parameter "__proto__x" is not known (expected: sensorId, limit, window)',
    ]);
  });
});
