// Serves the web console (built by `npm run build` into dist/console) at /ui, and sends / there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  app.useStaticAssets({
    root: CONSOLE_DIR,
    prefix: '/ui/',
    // GET /ui answers a redirect to /ui/, so the page's relative asset URLs resolve under the prefix.
    redirect: true,
    decorateReply: false,
    // Asset names carry a content hash: cache them for good, and never the page that names them.
    setHeaders: (res, file) => {
      void res.setHeader('cache-control', file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  app
    .getHttpAdapter()
    .getInstance()
    .get('/', (_request, reply) => reply.redirect('/ui/', 302));
  return true;
}
