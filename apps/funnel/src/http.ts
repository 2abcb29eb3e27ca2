// The api's HTTP server: Fastify with body limits, timeouts, request ids and the lingering close for refused bodies.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';

import rateLimit from '@fastify/rate-limit';
import { BadRequestException, ValidationPipe, type INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import secureJson from 'secure-json-parse';

import { BEARER_SCHEME, presentedToken, tokenId } from '@funnel/auth';
import type { FunnelConfig } from '@funnel/config';
import { registerIngestBodies } from '@funnel/ingestion';

import { logRequests } from './logging.js';

/**
 * Fastify with the body limit from config; it answers 413/415/400 for oversized, non-JSON or malformed
 * bodies, and logs one line per request.
 */
export function httpAdapter(config: FunnelConfig, logger: Logger): FastifyAdapter {
  const tls = tlsFiles(config);
  const adapter = new FastifyAdapter({
    ...(tls ? { https: tls() } : {}),
    bodyLimit: config.MAX_BODY_BYTES,
    // Slow clients cannot hold a connection and its buffers: Node answers 408 and closes once the headers, or the
    // whole request, take longer than these; a connection silent both ways is closed after the idle timeout.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_IDLE_TIMEOUT_MS,
    http: {
      // Node refuses a headers timeout longer than the request timeout.
      headersTimeout: Math.min(config.HTTP_HEADERS_TIMEOUT_MS, config.HTTP_REQUEST_TIMEOUT_MS),
      requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
      // Node checks both timeouts only this often (30 s by default), so a short timeout needs a short check.
      connectionsCheckingInterval: Math.min(1_000, config.HTTP_HEADERS_TIMEOUT_MS),
    },
    // On shutdown: close idle keep-alive connections at once, let in-flight requests finish, answer 503 to new ones.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: false,
    // The server's own id: a caller's x-request-id is logged beside it (see logRequests), never used as it.
    genReqId: () => randomUUID(),
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID, request.id);
    done();
  });
  logRequests(fastify, logger, config);
  if (tls) reloadOnSighup(fastify.server as HttpsServer, tls, logger);
  lingerBeforeClosing(fastify);
  // JSON only: every other media type is answered 415 (the app is created with bodyParser: false).
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(new BadRequestException((error as Error).message), undefined);
    }
  });
  // Content-Encoding on every route; raw bodies for line protocol, OTLP and NDJSON import.
  registerIngestBodies(fastify, config.MAX_BODY_BYTES);
  return adapter;
}

const REQUEST_ID = 'x-request-id';

/** How long a connection closed on an unread body keeps reading and dropping it, at most. */
export const LINGER_MS = 5_000;

/**
 * Fastify answers an oversized or unparsable body with `connection: close` while the client may still be sending
 * it. Node would then close the socket with those bytes unread; the kernel answers them with a TCP reset, and a
 * reset can discard the 413 before the client has read it (a client then sees "connection reset", not the
 * answer). Such a connection is closed the way web servers close it ("lingering close", nginx's
 * `lingering_close`): our side is ended once the answer is written, and the rest of the body is read and dropped
 * until the client closes its side, or for at most LINGER_MS.
 */
function lingerBeforeClosing(fastify: FastifyInstance): void {
  // An error hook: such answers are errors, and the requests that succeed pay nothing for it.
  fastify.addHook('onError', (request, reply, _error, done) => {
    if (!request.raw.complete && reply.getHeader('connection') === 'close') {
      const socket = request.raw.socket;
      socket.destroySoon = function lingeringClose(this: Socket) {
        this.end();
        const timer = setTimeout(() => this.destroy(), LINGER_MS).unref();
        this.once('close', () => clearTimeout(timer));
      };
    }
    done();
  });
}

/**
 * Parses a JSON body; the error names what is wrong: a syntax error with its position, or a key
 * (`__proto__`, `constructor.prototype`) that could reach Object.prototype.
 */
export function parseJsonBody(body: string): unknown {
  if (body.length === 0) {
    throw new Error('Body is empty; expected a JSON reading or array of readings');
  }
  try {
    return secureJson.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof SyntaxError && !/prototype/i.test(message)) {
      throw new Error(`Body is not valid JSON: ${message.slice(0, 200)}`, { cause: error });
    }
    throw new Error(
      'Body contains a forbidden key ("__proto__", or "constructor" holding "prototype"): it is not allowed in any object',
      { cause: error },
    );
  }
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
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'A Funnel token (fnl_...)' }, BEARER_SCHEME)
      .build(),
  );
  // persistAuthorization: the token given to the Authorize button survives a reload of the page.
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}

/** Probes and scrapes are never rate limited: an orchestrator must always learn the truth. */
const UNLIMITED = /^\/(health\/(live|ready)|metrics)(\?|$)/;

/**
 * RATE_LIMIT_PER_SECOND per token (its public id; the address when there is no token) with RATE_LIMIT_BURST, as a
 * fixed window of BURST requests per BURST/RATE seconds (@fastify/rate-limit, in memory: per process). Runs
 * before the body is read. Unknown tokens get a window of their own and then a 401, which the failed-auth
 * limit counts.
 */
export async function rateLimits(app: NestFastifyApplication, config: FunnelConfig): Promise<void> {
  const rate = config.RATE_LIMIT_PER_SECOND;
  if (rate === 0) return;
  const burst = config.RATE_LIMIT_BURST || rate;
  await app.register(rateLimit, {
    global: true,
    max: burst,
    timeWindow: Math.max(1_000, Math.round((burst / rate) * 1_000)),
    allowList: (request) => UNLIMITED.test(request.url),
    keyGenerator: (request) => {
      const presented = presentedToken(request.headers.authorization);
      return presented && 'token' in presented ? `token:${tokenId(presented.token)}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `rate limit of ${context.max} requests per ${context.after} reached; retry after the Retry-After seconds`,
    }),
  });
}

/** TLS_CERT_FILE and TLS_KEY_FILE as a reader of both files, or undefined for plain HTTP; one without the other is refused. */
export function tlsFiles(config: FunnelConfig): (() => { cert: Buffer; key: Buffer }) | undefined {
  const { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile } = config;
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE must be set together (or neither)');
  return () => ({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
}

/**
 * SIGHUP reads the certificate and key again (after a renewal) and serves them to new connections; open ones keep
 * theirs. A pair that cannot be read or does not match is logged and the old one stays in use.
 */
function reloadOnSighup(server: HttpsServer, read: () => { cert: Buffer; key: Buffer }, logger: Logger): void {
  process.on('SIGHUP', () => {
    try {
      server.setSecureContext(read());
      logger.info('SIGHUP: reloaded TLS_CERT_FILE and TLS_KEY_FILE');
    } catch (error) {
      logger.error(`SIGHUP: kept the old certificate; the new one cannot be used: ${(error as Error).message}`);
    }
  });
}
