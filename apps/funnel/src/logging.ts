// JSON logging with pino: the process logger, Nest's logger adapter and one line per request.
import { hostname } from 'node:os';

import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { pino, type Level, type Logger } from 'pino';

import { requestTokenId } from '@funnel/auth';
import type { FunnelConfig } from '@funnel/config';
import { HEADER_ID_PATTERN } from '@funnel/contracts';

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

/** The caller's own request id header, logged as `clientRequestId` beside the server's id, never in its place. */
const CLIENT_REQUEST_ID = 'x-request-id';

/**
 * One line per HTTP request, written when the answer is sent: `request completed` at info, or
 * `request errored` at warn for a 5xx (Kafka or MongoDB away, backpressure), which is what an operator
 * looks for. It carries the server's request id (see `httpAdapter` in http.ts), the caller's
 * `x-request-id` as `clientRequestId` when it is 1-128 printable ASCII characters, method, URL (headers may
 * carry credentials, so they are left out), status and response time.
 *
 * 4xx lines are the caller's mistakes and a hostile caller can make thousands a second, so only
 * LOG_4XX_LINES_PER_INTERVAL of them are written per LOG_4XX_INTERVAL_MS and the rest are counted in one
 * summary line; 5xx lines are always written.
 *
 * Done in a Fastify hook rather than a logging middleware: a middleware and a per-request child logger
 * (with AsyncLocalStorage to find it) cost a fifth of the api's CPU per single-reading request, measured
 * with --cpu-prof. Lines logged while handling a request name it themselves (see the exception filter).
 */
export function logRequests(fastify: FastifyInstance, logger: Logger, config: FunnelConfig): void {
  const clientErrors = new LineBudget(config.LOG_4XX_LINES_PER_INTERVAL, config.LOG_4XX_INTERVAL_MS, (count, ms) =>
    logger.info(
      { suppressed: count, seconds: Math.round(ms / 1000) },
      `suppressed ${count} 4xx request lines in the last ${Math.round(ms / 1000)} s`,
    ),
  );
  fastify.addHook('onClose', (_instance, done) => {
    clientErrors.flush();
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const failed = status >= 500;
    const level: Level = failed ? 'warn' : 'info';
    if (
      logger.isLevelEnabled(level) &&
      !QUIET_PATHS.test(request.url) &&
      (status < 400 || status >= 500 || clientErrors.take())
    ) {
      const given = request.headers[CLIENT_REQUEST_ID];
      const token = requestTokenId(request);
      logger[level](
        {
          reqId: request.id,
          req: { id: request.id, method: request.method, url: request.url },
          ...(typeof given === 'string' && HEADER_ID_PATTERN.test(given) ? { clientRequestId: given } : {}),
          ...(token ? { token } : {}),
          res: { statusCode: status },
          responseTime: Math.round(reply.elapsedTime * 1000) / 1000,
        },
        failed ? 'request errored' : 'request completed',
      );
    }
    done();
  });
}

/**
 * At most `limit` lines per `intervalMs` window (a fixed window: simple, and a burst costs at most
 * `limit` lines plus one summary). Lines beyond it are counted; the count is reported once through
 * `onSuppressed` when the window ends (or on `flush`, e.g. at shutdown).
 */
export class LineBudget {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limit: number,
    private readonly intervalMs: number,
    private readonly onSuppressed: (count: number, overMs: number) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when one more line may be written now; else it is counted as suppressed. */
  take(): boolean {
    const now = this.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.flush();
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.limit) {
      this.used += 1;
      return true;
    }
    this.suppressed += 1;
    // unref: a pending summary never keeps the process alive.
    this.timer ??= setTimeout(() => this.flush(), this.windowStart + this.intervalMs - now).unref();
    return false;
  }

  /** Reports the lines suppressed so far, if any. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.suppressed > 0) {
      const count = this.suppressed;
      this.suppressed = 0;
      this.onSuppressed(count, Math.min(this.now() - this.windowStart, this.intervalMs));
    }
  }
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
