// Fault-injection suite for Funnel: `npm run test:faults [-- --quick] [-- --only 2,5]`.
//
// Starts its own Kafka broker and MongoDB server (ports in infra.ts), then runs each scenario against the
// built app (dist/, so `npm run build` first) with the api and the worker as separate processes, injects
// the fault under load, and reconciles MongoDB against the ledger of acknowledged readings. Prints one
// table row per scenario, then the timeline, checks and (for failures) log evidence. Exit code 1 if any
// scenario failed. Process logs stay in .funnel/faults/<run>/.
import { parseArgs } from 'node:util';

import { PROFILES } from './harness.js';
import { RUNNER_PORTS } from './infra.js';
import { details, table } from './report.js';
import { SCENARIOS } from './scenarios.js';
import { FaultSuite } from './suite.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(
    [
      'usage: npm run test:faults [-- --quick] [-- --only 1,4,7]',
      '  --quick   smaller scenarios (about a third of the readings)',
      '  --only    scenario keys or names, comma-separated',
      '',
      ...SCENARIOS.map((s) => `  ${s.key} ${s.name}: ${s.fault}`),
    ].join('\n'),
  );
  process.exit(0);
}

const keys = values.only
  ? values.only
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  : SCENARIOS.map((s) => s.key);
const suite = new FaultSuite(values.quick ? PROFILES.quick : PROFILES.full, RUNNER_PORTS);
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.log('\n[faults] interrupted: finishing the current scenario, Ctrl-C again to abort');
});

const started = Date.now();
let code = 0;
try {
  keys.forEach((k) => suite.scenario(k)); // unknown keys fail before anything starts
  await suite.start();
  for (const key of keys) {
    if (interrupted) break;
    await suite.run(key);
  }
} catch (error) {
  console.error(`[faults] ${(error as Error).stack ?? error}`);
  code = 1;
} finally {
  await suite.stop().catch((error: Error) => console.error(`[faults] stopping infra: ${error.message}`));
}

if (suite.results.length) {
  console.log(`\n# Funnel fault injection — ${suite.profile.name}, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  console.log(table(suite.results));
  console.log(details(suite.results));
}
if (suite.results.some((r) => !r.passed)) code = 1;
process.exit(code);
