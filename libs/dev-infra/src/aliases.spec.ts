// Guards the one alias table: tsconfig.json's paths are the source; .swcrc and nest-cli.json must agree.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

// @ts-expect-error plain ESM helper without declarations (jest.config.mjs and the ts hooks use it too)
import { aliasPaths, REPO_ROOT, resolveAlias } from '../aliases.mjs';

const json = (file: string) => JSON.parse(fs.readFileSync(path.join(REPO_ROOT as string, file), 'utf8'));

describe('the @funnel/* alias table', () => {
  it('is the same in .swcrc as in tsconfig.json (the build resolves what the type-check resolved)', () => {
    expect(json('.swcrc').jsc.paths).toEqual(aliasPaths());
  });

  it('names every lib, and nest-cli.json lists every lib and app', () => {
    const projects = json('nest-cli.json').projects as Record<string, { root: string }>;
    for (const kind of ['libs', 'apps']) {
      for (const dir of fs.readdirSync(path.join(REPO_ROOT as string, kind))) {
        expect(Object.values(projects).map((p) => p.root)).toContain(`${kind}/${dir}`);
        if (kind === 'libs') expect(fs.existsSync(resolveAlias(`@funnel/${dir}`) as string)).toBe(true);
      }
    }
  });
});
