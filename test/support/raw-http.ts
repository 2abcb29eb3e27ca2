// Sends HTTP requests as raw bytes, so hostile and malformed inputs reach the server unchanged.
import { connect } from 'node:net';

import { withAdminAuth } from './env.js';

/** A request as bytes: sent as written, so hostile and malformed inputs reach the server unchanged. */
export interface RawRequest {
  method: 'POST' | 'GET';
  /** Path with its raw query string. */
  path: string;
  headers: Record<string, string>;
  /** Raw body bytes, sent with a content-length (or, when `chunked`, streamed in chunks without one). */
  body?: Buffer;
  chunked?: boolean;
  /** Sent without the admin token that is otherwise added when `headers` carry no Authorization header. */
  anonymous?: boolean;
}

/** What came back; `error` when no HTTP answer could be read at all. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
  json: unknown;
  ms: number;
  error?: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Sends one request with fetch. When the connection breaks before fetch could read an answer — typically the app
 * answered 413 and closed while the body was still being written (EPIPE) — the request is sent again over a bare
 * socket that keeps reading whatever the app answered; if there is no answer either way, that is the answer.
 */
export async function send(base: string, given: RawRequest): Promise<Answer> {
  const req = given.anonymous ? given : { ...given, headers: withAdminAuth(given.headers) };
  const started = Date.now();
  const init: RequestInit & { duplex?: 'half' } = {
    method: req.method,
    headers: req.headers,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  if (req.body && !req.chunked) {
    init.body = req.body;
  } else if (req.body) {
    const data = req.body;
    let offset = 0;
    init.body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= data.length) return controller.close();
        controller.enqueue(data.subarray(offset, offset + 64 * 1024));
        offset += 64 * 1024;
      },
    });
    init.duplex = 'half';
  }
  try {
    const res = await fetch(`${base}${req.path}`, init);
    const text = await res.text();
    return answer(res.status, res.headers.get('content-type') ?? '', text, started);
  } catch (error) {
    const e = error as Error & { cause?: Error & { code?: string } };
    const detail = e.cause ? `${e.cause.code ?? e.cause.name}: ${e.cause.message}` : e.message;
    if (e.name === 'TimeoutError') return { ...answer(0, '', '', started), error: detail };
    const raw = await sendRaw(base, req);
    return raw.error ? { ...raw, error: `${detail}; again over a bare socket: ${raw.error}` } : raw;
  }
}

function answer(status: number, contentType: string, text: string, started: number): Answer {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, contentType, text, json, ms: Date.now() - started };
}

/** HTTP/1.1 over a bare socket with `connection: close`: write errors are ignored, the answer is what was read. */
export function sendRaw(base: string, req: RawRequest): Promise<Answer> {
  const started = Date.now();
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), REQUEST_TIMEOUT_MS);
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', () => {}); // EPIPE / ECONNRESET while writing: the answer may already be in `received`
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(received), started));
    });
    const headers: Record<string, string> = { host: `${hostname}:${port}`, ...req.headers, connection: 'close' };
    if (req.body && !req.chunked) headers['content-length'] = String(req.body.length);
    if (req.chunked) headers['transfer-encoding'] = 'chunked';
    const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(Buffer.from(`${req.method} ${req.path} HTTP/1.1\r\n${head.join('')}\r\n`, 'latin1'));
    if (req.body && req.chunked) {
      for (let offset = 0; offset < req.body.length; offset += 64 * 1024) {
        const chunk = req.body.subarray(offset, offset + 64 * 1024);
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        socket.write('\r\n');
      }
      socket.write('0\r\n\r\n');
    } else if (req.body) {
      socket.write(req.body);
    }
  });
}

function parseResponse(raw: Buffer, started: number): Answer {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0)
    return { ...answer(0, '', '', started), error: `connection closed after ${raw.length} bytes, no answer` };
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers = new Map(
    lines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (eol < 0 || !(size > 0)) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers.has('content-length')) {
    body = body.subarray(0, Number(headers.get('content-length')));
  }
  return answer(Number(statusLine.split(' ')[1]), headers.get('content-type') ?? '', body.toString('utf8'), started);
}
