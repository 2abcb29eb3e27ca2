// `node --import ./test/faults/register.mjs test/faults/run.ts`: lets Node run the suite's TypeScript
// directly (Node 20 cannot strip types itself), compiled in memory by the @swc/core the build already uses.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
