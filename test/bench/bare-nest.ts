// L_nest: the ceiling of the framework the api is built on. The smallest Nest application on the same
// Fastify adapter: one controller whose POST /v1/points parses the same JSON body and answers 202
// {accepted} at once (no pipes, hooks, logging or Kafka), under the same load as L_http.
// Decorators are applied as plain calls: the bench runs TypeScript through a loader without a decorator
// transform. Run: node --import ./test/faults/register.mjs test/bench/bare-nest.ts <port>
import 'reflect-metadata';

import { Body, Controller, Get, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';

class IngestController {
  ingest(body: unknown) {
    return { accepted: Array.isArray(body) ? body.length : 1 };
  }

  live() {
    return { status: 'ok' };
  }
}
const method = (name: keyof IngestController) => Object.getOwnPropertyDescriptor(IngestController.prototype, name);
Reflect.decorate([Post('v1/points'), HttpCode(202)], IngestController.prototype, 'ingest', method('ingest'));
Body()(IngestController.prototype, 'ingest', 0);
Reflect.decorate([Get('health/live')], IngestController.prototype, 'live', method('live'));
Controller()(IngestController);

class AppModule {}
Module({ controllers: [IngestController] })(AppModule);

const port = Number(process.argv[2] ?? 0);
const app = await NestFactory.create<NestFastifyApplication>(
  AppModule,
  new FastifyAdapter({ bodyLimit: 5 * 1024 * 1024 }),
  { logger: false },
);
await app.listen(port, '127.0.0.1');
process.stdout.write(`listening ${port}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
