// Holds docs/settings.md and `--help` to the @Setting declarations they are generated from.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

// Through the lib's public index, as the docs:settings script reads them.
import {
  SETTINGS_DOC,
  generatedSection,
  listSettings,
  settingsHelp,
  settingsReference,
  withGeneratedSection,
} from './index.js';

const DOC = readFileSync(path.resolve(SETTINGS_DOC), 'utf8');

/** Markdown lines with table cells trimmed and separator dashes collapsed, blank lines dropped. */
function normalized(markdown: string): string[] {
  return markdown
    .trim()
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line.trim(),
    )
    .filter((line) => line !== '');
}

describe('settings documentation', () => {
  it(`${SETTINGS_DOC}'s generated section is the one made from the @Setting metadata (run \`npm run docs:settings\`)`, () => {
    // Compared line by line with cells trimmed: prettier may pad the table's columns.
    expect(normalized(generatedSection(DOC) ?? '')).toEqual(normalized(settingsReference()));
  });

  it('the table has one row per setting, naming its default and roles, linked to its description', () => {
    const reference = `${settingsReference()}\n`;
    const rows = reference.split('\n\n')[0].split('\n').slice(2);
    expect(rows).toHaveLength(listSettings().length);
    for (const [i, s] of listSettings().entries()) {
      expect(rows[i]).toBe(`| [\`${s.name}\`](#${s.name.toLowerCase()}) | \`${s.default}\` | ${s.roles.join(', ')} |`);
      expect(reference).toContain(`\n### \`${s.name}\`\n\n${s.description}\n`);
    }
  });

  it.each([
    'CONSUMER_STALL_MS',
    'IDEMPOTENCY_WINDOW_MS',
    'DEDUP_SETTLE_MS',
    'MAX_INFLIGHT_POINTS',
    'SHUTDOWN_TIMEOUT_MS',
  ])(`documents %s in ${SETTINGS_DOC} and --help`, (name) => {
    expect(generatedSection(DOC)).toContain(`### \`${name}\``);
    expect(settingsHelp()).toContain(`  ${name}  (default: `);
  });

  it('--help lists every setting with default, roles and description', () => {
    const help = settingsHelp();
    for (const s of listSettings()) {
      expect(help).toContain(
        `  ${s.name}  (default: ${s.default}; roles: ${s.roles.join(', ')})\n      ${s.description}`,
      );
    }
  });

  it('rewriting the section keeps the text around the markers', () => {
    const doc = 'before\n<!-- settings:start -->\nold\n<!-- settings:end -->\nafter\n';
    expect(withGeneratedSection(doc, 'new')).toBe(
      'before\n<!-- settings:start -->\n\nnew\n\n<!-- settings:end -->\nafter\n',
    );
    expect(() => withGeneratedSection('no markers', 'x')).toThrow(/markers/);
  });
});
