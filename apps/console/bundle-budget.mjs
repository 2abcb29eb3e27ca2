// Prints the gzipped size of what the console's first page loads (index.html and the assets it names) and fails
// the build past the budget: the console ships inside every api process and must stay light to open.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const BUDGET_BYTES = 300 * 1024;
export const OUT_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

/** Gzipped bytes of index.html and every script, stylesheet and module preload it references. */
export function firstPageBytes(outDir = OUT_DIR) {
  const html = fs.readFileSync(path.join(outDir, 'index.html'), 'utf8');
  const assets = [...html.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
  const files = ['index.html', ...new Set(assets)];
  return files.map((file) => ({ file, gzip: zlib.gzipSync(fs.readFileSync(path.join(outDir, file))).length }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = firstPageBytes();
  const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
  const list = sizes.map((s) => `${s.file} ${(s.gzip / 1024).toFixed(1)} KB`).join(', ');
  console.log(`console first page: ${(total / 1024).toFixed(1)} KB gzipped (budget 300 KB): ${list}`);
  if (total > BUDGET_BYTES) {
    console.error('console bundle is over its budget');
    process.exit(1);
  }
}
