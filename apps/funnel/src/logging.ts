// JSON logging with pino: the process logger, Nest's logger adapter and one line per request.
import { hostname } from 'node:os';

import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { pino, type Level, type Logger } from 'pino';

import type { FunnelConfig } from '@funnel/config';

/** Probes and scrapes arrive every few seconds; their per-request lines would drown the rest. */
const QUIET_PATHS = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/**
 * The process's JSON logger: one line per entry (pretty when stdout is a terminal), `role`, `version`,
 * `pid` and `hostname` on every line, level from LOG_LEVEL.
 */
export function createLogger(config: FunnelConfig, version: string): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { role: config.FUNNEL_ROLE, version, pid: process.pid, hostname: hostname() },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    transport: process.stdout.isTTY ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
  });
}

/**
 * One line per HTTP request, written when the answer is sent: `request completed` at info, or
 * `request errored` at warn for a 5xx (Kafka or MongoDB away, backpressure), which is what an operator
 * looks for. It carries the request id (Fastify's, see `requestId` in http.ts), method, URL (headers may
 * carry credentials, so they are left out), status and response time.
 *
 * Done in a Fastify hook rather than a logging middleware: a middleware and a per-request child logger
 * (with AsyncLocalStorage to find it) cost a fifth of the api's CPU per single-reading request, measured
 * with --cpu-prof. Lines logged while handling a request name it themselves (see the exception filter).
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const failed = reply.statusCode >= 500;
    const level: Level = failed ? 'warn' : 'info';
    if (logger.isLevelEnabled(level) && !QUIET_PATHS.test(request.url)) {
      logger[level](
        {
          reqId: request.id,
          req: { id: request.id, method: request.method, url: request.url },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
        },
        failed ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}

const NEST_LEVELS = {
  verbose: 'trace',
  debug: 'debug',
  log: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
} as const;

/**
 * Nest's Logger through pino: `context` is the Logger's name. A message may be an object of fields
 * (with `msg`), e.g. `{ msg, req: { id } }` for a line about one request.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('verbose', message, rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  log(message: unknown, ...rest: unknown[]): void {
    this.write('log', message, rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(method: keyof typeof NEST_LEVELS, message: unknown, rest: unknown[]): void {
    const level = NEST_LEVELS[method];
    if (!this.logger.isLevelEnabled(level)) {
      return;
    }
    // Nest passes the context last; error() may pass a stack before it.
    const context = typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const stack = method === 'error' || method === 'fatal' ? rest.find((r) => typeof r === 'string') : undefined;
    const fields: Record<string, unknown> = context === undefined ? {} : { context };
    if (stack !== undefined) {
      fields.stack = stack;
    }
    if (message instanceof Error) {
      this.logger[level]({ ...fields, err: message }, message.message);
    } else if (message !== null && typeof message === 'object') {
      const { msg, ...more } = message as Record<string, unknown>;
      this.logger[level]({ ...fields, ...more }, typeof msg === 'string' ? msg : '');
    } else {
      this.logger[level](fields, String(message));
    }
  }
}
