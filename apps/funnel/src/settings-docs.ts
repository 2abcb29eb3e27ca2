// `npm run docs:settings`: rewrites README's settings table from the @Setting metadata.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { settingsTable, withTable } from '@funnel/config';

const readme = path.resolve('README.md');
const before = readFileSync(readme, 'utf8');
const after = withTable(before, settingsTable());
writeFileSync(readme, after);
console.log(before === after ? 'README settings table already up to date' : 'README settings table rewritten');
