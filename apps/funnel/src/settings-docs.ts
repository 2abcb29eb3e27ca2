// `npm run docs:settings`: rewrites the generated section of docs/settings.md from the @Setting metadata.
import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { SETTINGS_DOC, settingsReference, withGeneratedSection } from '@funnel/config';

const doc = path.resolve(SETTINGS_DOC);
const before = readFileSync(doc, 'utf8');
const after = withGeneratedSection(before, settingsReference());
writeFileSync(doc, after);
console.log(before === after ? `${SETTINGS_DOC} already up to date` : `${SETTINGS_DOC} rewritten`);
