// Turns "Kafka or MongoDB unavailable" errors into a 503 with Retry-After instead of a 500.
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { DependencyUnavailable } from '@funnel/contracts';

export const RETRY_AFTER_SECONDS = 5;

/** Kafka or MongoDB could not serve the request: 503 with Retry-After, so clients back off and retry. */
@Catch(DependencyUnavailable)
export class DependencyUnavailableFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(error: DependencyUnavailable, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    // The request's id on the line, so it joins the request's own log line.
    this.logger.warn({ msg: error.message, req: { id: http.getRequest<FastifyRequest>().id } });
    const reply = http.getResponse<FastifyReply>();
    const name = error.dependency === 'kafka' ? 'Kafka' : 'MongoDB';
    void reply
      .status(503)
      .header('Retry-After', String(RETRY_AFTER_SECONDS))
      .send({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${name} is not available right now; retry later`,
      });
  }
}
