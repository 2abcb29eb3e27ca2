import { BadRequestException, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';

/** Names the query parameters of `query` outside `allowed`, as 400 messages. */
export function unknownQueryKeys(query: unknown, allowed: readonly string[]): string[] {
  if (query === null || typeof query !== 'object') {
    return [];
  }
  return Object.keys(query)
    .filter((key) => !allowed.includes(key))
    .map((key) => `query parameter ${JSON.stringify(key.slice(0, 80))} is not known (expected: ${allowed.join(', ')})`);
}

/**
 * Rejects (400) a request with query parameters outside `allowed`, checked on the raw parsed query
 * before any pipe: the DTO whitelist never sees names such as `__proto__` or `constructor`, which
 * class-transformer skips.
 */
export function KnownQueryKeys(...allowed: string[]): MethodDecorator & ClassDecorator {
  const guard: CanActivate = {
    canActivate(context: ExecutionContext): boolean {
      const problems = unknownQueryKeys(context.switchToHttp().getRequest<{ query?: unknown }>().query, allowed);
      if (problems.length > 0) {
        throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems });
      }
      return true;
    },
  };
  return UseGuards(guard);
}
