import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';

import { RequestMethod, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';

import type { FunnelConfig } from '@funnel/config';

/** Probes and scrapes arrive every few seconds; their per-request lines would drown the rest. */
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/**
 * JSON lines through pino (pretty when stdout is a terminal), `role` on every line, level from
 * LOG_LEVEL, and one line per HTTP request carrying its request id (Fastify's, see `requestId` in
 * http.ts). Lines logged through Nest's Logger while handling a request carry it too.
 */
export function loggingModule(config: FunnelConfig, version: string): DynamicModule {
  return LoggerModule.forRoot({
    forRoutes: [{ path: '*path', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.LOG_LEVEL,
      base: { role: config.FUNNEL_ROLE, version, pid: process.pid, hostname: hostname() },
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
      customProps: (req: IncomingMessage) => ({ reqId: (req as IncomingMessage & { id: unknown }).id }),
      // 5xx answers (Kafka or MongoDB away, backpressure) are what an operator looks for: warn, not info.
      customLogLevel: (_req: IncomingMessage, res: { statusCode: number }, error?: Error) =>
        error || res.statusCode >= 500 ? 'warn' : 'info',
      autoLogging: {
        ignore: (req: IncomingMessage & { originalUrl?: string }) => QUIET_PATHS.test(req.originalUrl ?? req.url ?? ''),
      },
      // Headers may carry credentials; method, URL and id are what an operator needs.
      serializers: {
        req: (req: { id: unknown; method: string; url: string; raw?: { originalUrl?: string } }) => ({
          id: req.id,
          method: req.method,
          url: req.raw?.originalUrl ?? req.url,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    },
  });
}
