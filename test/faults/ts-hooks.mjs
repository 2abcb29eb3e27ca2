// Module hooks for register.mjs: compile .ts to ESM with @swc/core, resolve the `@funnel/*` aliases through
// tsconfig.json's table, and the `./x.js` specifiers that NodeNext-style sources use to the `./x.ts` beside them.
import { readFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import swc from '@swc/core';

import { resolveAlias } from '../../libs/dev-infra/aliases.mjs';
import { swcCompileOptions } from '../../libs/dev-infra/swc-options.mjs';

const compileOptions = swcCompileOptions();

export async function resolve(specifier, context, nextResolve) {
  const aliased = resolveAlias(specifier);
  if (aliased) return nextResolve(pathToFileURL(aliased).href, context);
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL?.endsWith('.ts');
    if (fromTs && specifier.startsWith('.') && specifier.endsWith('.js')) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) {
    return nextLoad(url, context);
  }
  const filename = fileURLToPath(url);
  const { code } = await swc.transform(await readFile(filename, 'utf8'), {
    filename,
    // .swcrc is the build's: its path rewriting would turn aliases into directory imports here, where
    // resolve() above maps them instead.
    swcrc: false,
    sourceMaps: 'inline',
    ...compileOptions,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
