/**
 * Request bodies of the ingest formats on the api's Fastify instance: `Content-Encoding` decoding for every route
 * (size limits counted on the decoded bytes, so a zip bomb is stopped, not inflated whole), and raw bodies
 * (a stream) for the routes whose formats are not JSON.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Routes that read their body as a stream (line protocol, OTLP, NDJSON import); every other route is JSON only. */
export const RAW_BODY_ROUTES: ReadonlySet<string> = new Set([
  '/api/v2/write',
  '/write',
  '/v1/import',
  '/v1/otlp/metrics',
]);

/** Routes whose decoded body has no overall limit (they stream it line by line in bounded memory). */
const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/v1/import']);

/** Content-Encoding values understood, and the decoder of each. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

export const CONTENT_ENCODINGS = 'gzip, deflate, br or identity';

/** An HTTP error raised while the body is read: Nest's exception handler answers it (any other error is a 500). */
function bodyError(statusCode: 400 | 413 | 415, message: string): HttpException {
  if (statusCode === 413) return new PayloadTooLargeException(message);
  if (statusCode === 415) return new UnsupportedMediaTypeException(message);
  return new BadRequestException(message);
}

/** Counts decoded bytes and fails with 413 past `limit`, which ends the decoder before it inflates the rest. */
class DecodedLimit extends Transform {
  private seen = 0;
  /** Encoded bytes read so far: Fastify checks these against Content-Length instead of the decoded length. */
  receivedEncodedLength = 0;

  constructor(private readonly limit: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      callback(bodyError(413, `decoded body is larger than ${this.limit} bytes (MAX_BODY_BYTES)`));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Registers on the api's Fastify: the Content-Encoding decoder (every route) and the raw-body parser for
 * RAW_BODY_ROUTES (any content type; the route checks it). Other routes keep answering 415 to non-JSON bodies.
 */
export function registerIngestBodies(fastify: FastifyInstance, maxBodyBytes: number): void {
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const header = request.headers['content-encoding'];
    const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
    if (encoding === '' || encoding === 'identity') {
      done(null, payload);
      return;
    }
    const decoder = DECODERS[encoding];
    if (decoder === undefined) {
      done(
        bodyError(
          415,
          `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported; use ${CONTENT_ENCODINGS}`,
        ),
        undefined,
      );
      return;
    }
    const unlimited = UNLIMITED_ROUTES.has(request.routeOptions.url ?? '');
    const limit = new DecodedLimit(unlimited ? Number.MAX_SAFE_INTEGER : maxBodyBytes);
    const inflate = decoder();
    payload.on('data', (chunk: Buffer) => (limit.receivedEncodedLength += chunk.length));
    inflate.on('error', (error: Error) =>
      limit.destroy(bodyError(400, `body is not valid ${encoding} data (Content-Encoding): ${error.message}`)),
    );
    limit.on('error', () => {
      inflate.destroy();
      payload.resume(); // drop the rest of what the client sends; the answer goes out meanwhile
    });
    payload.pipe(inflate).pipe(limit);
    done(null, limit);
  });
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (!RAW_BODY_ROUTES.has(request.routeOptions.url ?? '')) {
      const type = request.headers['content-type'];
      done(
        bodyError(
          415,
          type === undefined
            ? 'Content-Type is missing; expected application/json'
            : `Unsupported media type ${JSON.stringify(type.slice(0, 80))}; expected application/json`,
        ),
        undefined,
      );
      return;
    }
    done(null, payload);
  });
}

/** The raw body stream of a RAW_BODY_ROUTES request, or a 415 naming the media type when it came as JSON. */
export function bodyStream(request: FastifyRequest, expected: string): Readable {
  const body = request.body as Readable | undefined;
  if (body === undefined || body === null) {
    return emptyStream();
  }
  if (typeof (body as Readable).pipe !== 'function') {
    throw new UnsupportedMediaTypeException(
      `media type ${JSON.stringify(request.headers['content-type'] ?? '')} is not accepted here; send ${expected}`,
    );
  }
  return body;
}

function emptyStream(): Readable {
  return Readable.from([]);
}

/** Reads a whole body up to `limit` bytes: 413 past it, 400 for a body that could not be decoded. */
export async function readBody(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        stream.destroy();
        throw new PayloadTooLargeException(`body is larger than ${limit} bytes (MAX_BODY_BYTES)`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw asHttpError(error);
  }
  return Buffer.concat(chunks);
}

/** A body-reading failure as the HTTP error to answer. */
export function asHttpError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  return new BadRequestException(`could not read the body: ${(error as Error).message ?? String(error)}`);
}
