// Serves the web console (built by `npm run build` into dist/console) at /ui, and sends / there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import type { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** dist/console, seen from dist/apps/funnel/src/. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

/** Mounts the console's static files at /ui/ (no CDN: everything it loads is in there); a no-op if not built. */
export function serveConsole(app: NestFastifyApplication, logger: Logger): boolean {
  if (!fs.existsSync(path.join(CONSOLE_DIR, 'index.html'))) {
    logger.warn(`web console not built (${CONSOLE_DIR} has no index.html): /ui is not served`);
    return false;
  }
  const fastify = app.getHttpAdapter().getInstance();
  // Registered on Fastify itself: Nest's useStaticAssets types setHeaders for an older @fastify/static.
  void fastify.register(fastifyStatic, {
    root: CONSOLE_DIR,
    prefix: '/ui/',
    decorateReply: false,
    // Asset names carry a content hash: cache them for good, and never the page that names them.
    setHeaders: (reply, file) => {
      void reply.header('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  // / and /ui lead to /ui/, where the page's relative asset URLs resolve under the prefix.
  fastify.get('/', (_request, reply) => reply.redirect('/ui/', 302));
  fastify.get('/ui', (_request, reply) => reply.redirect('/ui/', 302));
  return true;
}
