// Starts one Funnel process: reads the settings, builds the role's modules, serves HTTP (and consumes Kafka).
import 'reflect-metadata';

import v8 from 'node:v8';

import { Logger, ShutdownSignal } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';

import { ConfigError, loadConfig, settingsHelp, type FunnelConfig } from '@funnel/config';

import { COMMAND_NAMES, runCli } from './cli/index.js';
import { serveConsole } from './console.js';
import { DependencyUnavailableFilter } from './dependency-unavailable.filter.js';
import { FunnelModule } from './funnel.module.js';
import { globalPipes, httpAdapter, rateLimits, setupSwagger } from './http.js';
import { createLogger, PinoNestLogger } from './logging.js';
import { ROLE_PLANS } from './roles.js';
import { packageVersion } from './version.js';

const VERSION = packageVersion();

async function bootstrap(config: FunnelConfig): Promise<void> {
  const plan = ROLE_PLANS[config.FUNNEL_ROLE];
  const logger = new Logger(`funnel:${config.FUNNEL_ROLE}`);
  if (plan.servesApi && config.API_HEAP_GROWTH_PERCENT > 0) {
    // Read by V8 each time it sets the next full collection's threshold, so it holds from the first one on.
    v8.setFlagsFromString(`--heap-growing-percent=${config.API_HEAP_GROWTH_PERCENT}`);
  }
  const pinoLogger = createLogger(config, VERSION);
  let adapter: FastifyAdapter;
  try {
    adapter = httpAdapter(config, pinoLogger);
  } catch (error) {
    // TLS files missing, unreadable or not a certificate and key: say which, without a stack trace.
    console.error(`cannot start the HTTP server: ${(error as Error).message}`);
    process.exit(2);
  }
  const app = await NestFactory.create<NestFastifyApplication>(
    FunnelModule.forRole(config, plan, VERSION),
    adapter,
    // Nest's own boot lines wait for the JSON logger instead of going to the console.
    { bodyParser: false, bufferLogs: true },
  );
  app.useLogger(new PinoNestLogger(pinoLogger));
  app.useGlobalPipes(globalPipes());
  app.useGlobalFilters(new DependencyUnavailableFilter());
  // Every signal Nest shuts down on, but SIGHUP when serving HTTPS: there it reloads the certificate (http.ts).
  app.enableShutdownHooks(
    Object.values(ShutdownSignal).filter((signal) => !(config.TLS_CERT_FILE && signal === ShutdownSignal.SIGHUP)),
  );
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
  if (plan.consumer) {
    app.connectMicroservice({ strategy: app.get(plan.consumer).server }, { inheritAppConfig: true });
  }
  if (plan.servesApi) {
    await rateLimits(app, config);
    setupSwagger(app, VERSION);
  }
  const consoleServed = plan.servesApi && serveConsole(app, logger);
  await app.init();
  if (plan.consumer) {
    // Not awaited: the consumer keeps retrying while the broker is away, and readiness says so.
    app
      .startAllMicroservices()
      .catch((error: Error) => logger.error(`Kafka consumer failed to start: ${error.message}`));
  }
  const port = config[plan.port];
  await app.listen(port, config.HOST);
  const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
  const base = `${scheme}://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  logger.log(
    `listening on ${base} (health: ${base}/health/live, ${base}/health/ready${plan.servesApi ? `, docs: ${base}/docs` : ''}${consoleServed ? `, console: ${base}/ui/` : ''})`,
  );
}

/** The validated settings, or exit 2 naming every bad one. */
function configOrExit(): FunnelConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

// An operator command (`tokens …`, `rollups rebuild …`, `import FILE`) runs and exits; it never starts a server.
if (COMMAND_NAMES.includes(process.argv[2] ?? '')) {
  process.exit(await runCli(process.argv.slice(2), configOrExit));
}

// `--help` or `config`: print every setting and exit, before reading or connecting to anything.
if (process.argv.slice(2).some((arg) => ['--help', '-h', 'config', 'help'].includes(arg))) {
  console.log(settingsHelp());
  process.exit(0);
}

await bootstrap(configOrExit());
