// ESLint flat config: catches bugs, keeps imports ordered and stops code reaching into another lib's files.
import { readdirSync } from 'node:fs';

import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Every folder under libs/ is a lib reachable only as `@funnel/<name>`; new libs are picked up without editing this.
const libs = readdirSync(new URL('./libs/', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

// A lib's public surface is its index.ts: deep aliases and relative paths into libs/*/src/ bypass it. (Root configs
// may still read a lib's own top-level files, e.g. the alias table in libs/dev-infra/aliases.mjs, which the aliases
// themselves come from.)
const boundaryPatterns = [
  { group: ['@funnel/*/**'], message: "Import the lib's public index: '@funnel/<lib>', not a file inside it." },
  {
    regex: '^\\.{1,2}/(.*/)?libs/[^/]+/src(/|$)',
    message: "Import another lib through '@funnel/<lib>', not a relative path into its src/.",
  },
];

// Inside a lib, a relative path that climbs out to a sibling lib's src/ is the same breach; its own alias would
// loop through its index. Flat config replaces (does not merge) rule options, so each lib gets the full list.
const libBoundaries = libs.map((lib) => ({
  files: [`libs/${lib}/**`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [{ name: `@funnel/${lib}`, message: 'Inside a lib, import its own files by relative path.' }],
        patterns: [
          ...boundaryPatterns,
          {
            regex: `^(\\.\\./)+(?!${lib}/)[\\w-][\\w.-]*/src(/|$)`,
            message: "Import another lib through '@funnel/<lib>', not a relative path into its src/.",
          },
        ],
      },
    ],
  },
}));

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', '.funnel/', 'coverage/'] },
  js.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { 'import-x': importX },
    settings: { 'import-x/internal-regex': '^@funnel/' },
    rules: {
      // The house order: side effects stay put, then node builtins / third party / @funnel/* / relative, each group
      // alphabetical and separated by a blank line. `eslint --fix` rewrites it.
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', ['parent', 'sibling', 'index']],
          'newlines-between': 'always',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      'import-x/first': 'error',
      'import-x/newline-after-import': 'error',
      'import-x/no-duplicates': 'error',
      'no-restricted-imports': ['error', { patterns: boundaryPatterns }],
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommended],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-aware for the one bug class worth its cost: a promise nobody awaits (a write, a commit) fails silently.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `_`-prefixed names are deliberate: positional parameters a signature requires, discarded destructures.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  ...libBoundaries,
  // The web console runs in the browser (its own tsconfig, DOM types); its build scripts run in Node.
  { files: ['apps/console/src/**'], languageOptions: { globals: globals.browser } },
  // Last, so formatting stays prettier's job alone.
  prettier,
);
