/** Checks that a query DTO is the one list of its query's keys, and the 400 that names the others (at most 100). */
import { describe, expect, it } from '@jest/globals';
import type { BadRequestException, CanActivate, ExecutionContext } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants.js';
import { IsDefined, IsInt, IsOptional, IsString } from 'class-validator';

import { KnownQueryKeys, queryKeysOf, unknownQueryKeys } from './query-keys.js';

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

describe('KnownQueryKeys 400', () => {
  /** The body of the 400 the guard throws for `query` (fails the test if it does not throw one). */
  function rejectionOf(query: Record<string, string>): { message: string[]; moreErrors?: number } {
    const context = { switchToHttp: () => ({ getRequest: () => ({ query }) }) } as unknown as ExecutionContext;
    const guards = Reflect.getMetadata(GUARDS_METADATA, Probe.prototype.handle) as CanActivate[];
    try {
      void guards[0].canActivate(context);
    } catch (error) {
      return (error as BadRequestException).getResponse() as { message: string[]; moreErrors?: number };
    }
    throw new Error('expected a 400');
  }

  class Probe {
    @KnownQueryKeys(SampleQueryDto)
    handle(): void {}
  }

  it('lists every unknown parameter up to 100, without a count', () => {
    const body = rejectionOf(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`x${i}`, '1'])));
    expect(body.message).toHaveLength(100);
    expect(JSON.parse(JSON.stringify(body))).not.toHaveProperty('moreErrors');
  });

  it('lists the first 100 of more and counts the rest', () => {
    const body = rejectionOf(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x${i}`, '1'])));
    expect(body.message).toHaveLength(100);
    expect(body.message[0]).toMatch(/^query parameter "x0" is not known/);
    expect(body.moreErrors).toBe(900);
  });
});
