// Answers a refused ingest (StoreFull) with 503, Retry-After and the reason, so that a client backs off knowingly.
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';

import { StoreFull } from './store-admission.js';

/** Long enough for the worker to have made room or for an operator to have looked. */
export const STORE_FULL_RETRY_AFTER_SECONDS = 30;

@Catch(StoreFull)
export class StoreFullFilter implements ExceptionFilter {
  private readonly logger = new Logger('Ingest');
  private logged = false;

  catch(error: StoreFull, host: ArgumentsHost): void {
    if (!this.logged) {
      // Once: under load every request would log it.
      this.logged = true;
      this.logger.error(`refusing ingest with 503: ${error.reason} (${error.backlogRecords} records waiting in Kafka)`);
    }
    void host
      .switchToHttp()
      .getResponse<FastifyReply>()
      .status(503)
      .header('Retry-After', String(STORE_FULL_RETRY_AFTER_SECONDS))
      .send({ statusCode: 503, error: 'Service Unavailable', message: error.reason });
  }
}
