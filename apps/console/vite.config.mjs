// The web console's build: Preact + uPlot bundled into dist/console, which the api role serves at /ui.
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('.'),
  // Relative asset URLs: the files work under /ui/ (or any other prefix) with no server-side rewriting.
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../../dist/console'),
    emptyOutDir: true,
    // The budget is checked (gzipped) by apps/console/bundle-budget.mjs right after the build.
    chunkSizeWarningLimit: 300,
    sourcemap: false,
  },
  logLevel: 'warn',
});
