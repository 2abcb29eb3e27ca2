// Fault injection, short mode, inside `npm test`: a representative subset of test/faults/scenarios.ts
// against the suite's own Kafka and MongoDB (E2E_PORTS; not the ones the global setup started), api and
// worker as separate processes. Each scenario must lose nothing acknowledged and store nothing twice, and
// pass its own checks. The full set runs with `npm run test:faults`.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { PROFILES } from './faults/harness.js';
import { E2E_PORTS } from './faults/infra.js';
import { details, table } from './faults/report.js';
import { FaultSuite } from './faults/suite.js';

/**
 * Chosen to cover each kind of fault within ~3 minutes on two cores: a crash between write and commit
 * (the replay must be deduplicated), a broker outage (503 while down, recovery), a MongoDB outage (retry,
 * readiness, no commit), poison records (DLQ, partition not blocked), an api crash mid-request, and lost answers
 * to Produce requests (the idempotent producer's resend must be written once).
 */
const SUBSET = ['2', '4', '5', '7', '9', '10'];

const lines: string[] = [];
const suite = new FaultSuite(PROFILES.short, E2E_PORTS, (line) => lines.push(line));

describe('fault injection (short mode)', () => {
  beforeAll(async () => {
    await suite.start();
  }, 180_000);

  afterAll(async () => {
    await suite.stop();
    if (suite.results.length) {
      // One table at the end, as `npm run test:faults` prints it.
      process.stdout.write(`\n${table(suite.results)}\n`);
    }
  }, 90_000);

  it.each(SUBSET)(
    'scenario %s: every acked reading stored exactly once, and the scenario checks hold',
    async (key) => {
      const result = await suite.run(key);
      const failed = result.checks.filter((c) => !c.ok);
      if (failed.length) {
        // The whole story of a failure: timeline, checks, log evidence.
        process.stdout.write(`${details([result])}\n`);
      }
      expect({ scenario: `${result.key} ${result.name}`, lost: result.lost, duplicated: result.duplicated }).toEqual({
        scenario: `${result.key} ${result.name}`,
        lost: 0,
        duplicated: 0,
      });
      expect(failed.map((c) => `${c.name}${c.detail ? `: ${c.detail.slice(0, 400)}` : ''}`)).toEqual([]);
    },
    240_000,
  );
});
