/** Rejects query strings that name parameters a query DTO does not declare, before any pipe sees them. */
import { BadRequestException, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { getMetadataStorage } from 'class-validator';

import { listedErrors } from './reading-rules.js';

/** Names the query parameters of `query` outside `allowed`, as 400 messages. */
export function unknownQueryKeys(query: unknown, allowed: readonly string[]): string[] {
  if (query === null || typeof query !== 'object') {
    return [];
  }
  return Object.keys(query)
    .filter((key) => !allowed.includes(key))
    .map((key) => `query parameter ${JSON.stringify(key.slice(0, 80))} is not known (expected: ${allowed.join(', ')})`);
}

/** The properties a DTO class validates, in declaration order: the DTO is the one list of its query's keys. */
export function queryKeysOf(dto: new () => object): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false);
  return [...new Set(rules.map((rule) => rule.propertyName))];
}

/**
 * Rejects (400) a request with query parameters `dto` does not declare, checked on the raw parsed query
 * before any pipe: the DTO whitelist never sees names such as `__proto__` or `constructor`, which
 * class-transformer skips.
 */
export function KnownQueryKeys(dto: new () => object): MethodDecorator & ClassDecorator {
  let allowed: string[] | undefined; // read at the first request, once every decorator of the DTO has run
  const guard: CanActivate = {
    canActivate(context: ExecutionContext): boolean {
      allowed ??= queryKeysOf(dto);
      const problems = unknownQueryKeys(context.switchToHttp().getRequest<{ query?: unknown }>().query, allowed);
      if (problems.length > 0) {
        const { errors, moreErrors } = listedErrors(problems);
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: errors, moreErrors });
      }
      return true;
    },
  };
  return UseGuards(guard);
}
