// The version Funnel reports (build info, log lines, the OpenAPI document): the one in package.json.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The `version` of the nearest package.json above this file, so that the sources (tests) and the build
 * (dist/, also in the image, which copies package.json beside it) read the same file.
 */
export function packageVersion(from = path.dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(`no package.json above ${from}`);
    }
  }
}
