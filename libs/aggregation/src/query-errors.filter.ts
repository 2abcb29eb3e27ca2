/** Answers aggregate queries refused as asked (400, the reason) or for now (503 with Retry-After). */
import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { QueryRejected, QueryUnavailable } from './query-rejected.js';

@Catch(QueryRejected, QueryUnavailable)
export class QueryErrorsFilter implements ExceptionFilter {
  catch(error: QueryRejected | QueryUnavailable, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (error instanceof QueryUnavailable) {
      void reply
        .status(503)
        .header('Retry-After', String(error.retryAfterSeconds))
        .send({ statusCode: 503, error: 'Service Unavailable', message: error.message });
      return;
    }
    void reply.status(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
  }
}
