// The compile options of .swcrc for tools that compile TypeScript in memory (jest, the fault suite's hooks):
// the same target, parser and decorator settings as the build, without its alias rewriting, which would turn
// `@funnel/*` into directory imports there (those tools map aliases themselves, see aliases.mjs).
import fs from 'node:fs';
import path from 'node:path';

import { REPO_ROOT } from './aliases.mjs';

/** .swcrc's `jsc` less `baseUrl`/`paths`, and plain ES modules. */
export function swcCompileOptions() {
  const { jsc } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, '.swcrc'), 'utf8'));
  const compile = { ...jsc };
  delete compile.baseUrl;
  delete compile.paths;
  return { jsc: compile, module: { type: 'es6' } };
}
