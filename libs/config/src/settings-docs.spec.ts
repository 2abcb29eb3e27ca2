import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { listSettings } from './setting.decorator.js';
import { settingsHelp, settingsTable, tableInReadme, withTable } from './settings-docs.js';

const README = readFileSync(path.resolve('README.md'), 'utf8');

/** A markdown table's cells, trimmed, with separator dashes collapsed. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .map((cell) => cell.trim().replace(/^-+$/, '---'))
        .slice(1, -1),
    );
}

describe('settings documentation', () => {
  it("README's settings table is the one generated from the @Setting metadata (run `npm run docs:settings`)", () => {
    // Compared cell by cell: prettier may pad the README's columns.
    expect(cells(tableInReadme(README) ?? '')).toEqual(cells(settingsTable()));
  });

  it('the table has one row per setting, naming its default and roles', () => {
    const rows = settingsTable().split('\n').slice(2);
    expect(rows).toHaveLength(listSettings().length);
    for (const [i, s] of listSettings().entries()) {
      expect(rows[i].startsWith(`| \`${s.name}\` | \`${s.default}\` | ${s.roles.join(', ')} |`)).toBe(true);
    }
  });

  it.each([
    'CONSUMER_STALL_MS',
    'IDEMPOTENCY_WINDOW_MS',
    'DEDUP_SETTLE_MS',
    'MAX_INFLIGHT_POINTS',
    'SHUTDOWN_TIMEOUT_MS',
  ])('documents %s in README and --help', (name) => {
    expect(tableInReadme(README)).toContain(`\`${name}\``);
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

  it('rewriting the table keeps the text around the markers', () => {
    const doc = 'before\n<!-- settings:start -->\nold\n<!-- settings:end -->\nafter\n';
    expect(withTable(doc, 'new')).toBe('before\n<!-- settings:start -->\nnew\n<!-- settings:end -->\nafter\n');
    expect(() => withTable('no markers', 'x')).toThrow(/markers/);
  });
});
