// Reads the one alias table (tsconfig.json "paths") for the tools that cannot read tsconfig themselves.
// .swcrc holds the same single wildcard entry; libs/dev-infra/src/aliases.spec.ts fails if the two differ.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsconfig.json's compilerOptions.paths, e.g. { "@funnel/*": ["libs/*\/src/index.ts"] }. */
export function aliasPaths() {
  paths ??= JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'tsconfig.json'), 'utf8')).compilerOptions.paths;
  return paths;
}
let paths;

const escape = (text) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The same table as jest's moduleNameMapper entries (one `*` per alias, as TypeScript allows). */
export function jestModuleNameMapper() {
  return Object.fromEntries(
    Object.entries(aliasPaths()).map(([alias, [target]]) => [
      `^${escape(alias).replace('*', '(.*)')}$`,
      `<rootDir>/${target.replace('*', '$1')}`,
    ]),
  );
}

/** The file an aliased specifier names (absolute path), or undefined when no alias matches. */
export function resolveAlias(specifier) {
  for (const [alias, [target]] of Object.entries(aliasPaths())) {
    const [head, tail = ''] = alias.split('*');
    const wild = alias.includes('*');
    if (wild ? specifier.startsWith(head) && specifier.endsWith(tail) : specifier === alias) {
      const middle = wild ? specifier.slice(head.length, specifier.length - tail.length) : '';
      return path.join(REPO_ROOT, target.replace('*', middle));
    }
  }
  return undefined;
}
