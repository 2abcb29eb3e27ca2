import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

import type { FunnelConfig } from '@funnel/config';

/** Fastify with the body limit from config; it answers 413/415/400 for oversized, non-JSON or malformed bodies. */
export function httpAdapter(config: FunnelConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    // Reject bodies that try to reach Object.prototype, instead of silently stripping the keys.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  });
  // JSON only: every other media type is answered 415 (the app is created with bodyParser: false).
  adapter.getInstance().removeContentTypeParser(['text/plain']);
  return adapter;
}

/** Validation for query DTOs: unknown parameters are an error, values are typed. */
export function globalPipes(): ValidationPipe {
  return new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false });
}

/** Swagger UI at /docs and the OpenAPI document at /docs-json. */
export function setupSwagger(app: INestApplication, version: string): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Funnel')
      .setDescription('Sensor readings in over REST, through Kafka into MongoDB time series, windowed aggregates out.')
      .setVersion(version)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
}
