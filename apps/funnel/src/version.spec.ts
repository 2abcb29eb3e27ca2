// Unit tests of the reported version: it is package.json's, from the sources and from the build alike.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { packageVersion } from './version.js';

const { version } = JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')) as { version: string };

describe('packageVersion', () => {
  it("is package.json's version, read from the sources", () => {
    expect(packageVersion()).toBe(version);
  });

  it('finds the same package.json from where the build puts this file', () => {
    expect(packageVersion(path.resolve('dist/apps/funnel/src'))).toBe(version);
  });
});
