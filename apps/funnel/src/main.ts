import 'reflect-metadata';

import { Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

import { ConfigError, loadConfig, type FunnelConfig } from '@funnel/config';
import { KafkaConsumerHost } from '@funnel/pipeline';

import { DependencyUnavailableFilter } from './dependency-unavailable.filter.js';
import { FunnelModule } from './funnel.module.js';
import { globalPipes, httpAdapter, setupSwagger } from './http.js';

const VERSION = '0.1.0';

/** Nest's logger takes the list of levels to print; LOG_LEVEL names the least severe one. */
function nestLogLevels(level: FunnelConfig['LOG_LEVEL']): LogLevel[] | false {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const upTo = { fatal: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5, silent: -1 }[level];
  return upTo < 0 ? false : order.slice(0, upTo + 1);
}

async function bootstrap(config: FunnelConfig): Promise<void> {
  const role = config.FUNNEL_ROLE;
  const logger = new Logger(`funnel:${role}`);
  const app = await NestFactory.create<NestFastifyApplication>(FunnelModule.forRole(config), httpAdapter(config), {
    bodyParser: false,
    logger: nestLogLevels(config.LOG_LEVEL),
  });
  app.useGlobalPipes(globalPipes());
  app.useGlobalFilters(new DependencyUnavailableFilter());
  app.enableShutdownHooks();
  // Graceful shutdown (stop taking work, flush, commit, disconnect) is bounded: past the limit, exit anyway.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal}: shutting down (at most ${config.SHUTDOWN_TIMEOUT_MS} ms)`);
      setTimeout(() => {
        logger.error(`shutdown took longer than ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
    });
  }
  if (role !== 'api') {
    app.connectMicroservice({ strategy: app.get(KafkaConsumerHost).server }, { inheritAppConfig: true });
  }
  if (role !== 'worker') {
    setupSwagger(app, VERSION);
  }
  await app.init();
  if (role !== 'api') {
    // Not awaited: the consumer keeps retrying while the broker is away, and readiness says so.
    app
      .startAllMicroservices()
      .catch((error: Error) => logger.error(`Kafka consumer failed to start: ${error.message}`));
  }
  const port = role === 'worker' ? config.WORKER_PORT : config.PORT;
  await app.listen(port, config.HOST);
  const base = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  logger.log(
    `listening on ${base} (health: ${base}/health/live, ${base}/health/ready${role !== 'worker' ? `, docs: ${base}/docs` : ''})`,
  );
}

let config: FunnelConfig;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
await bootstrap(config);
