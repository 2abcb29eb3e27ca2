import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';

import { listSettings } from '@funnel/config';

const MAIN = path.resolve('dist/apps/funnel/src/main.js');

describe('node dist/apps/funnel/src/main.js --help | config', () => {
  it.each(['--help', 'config'])('%s prints every setting with default, roles and description, and exits 0', (arg) => {
    // Settings that would fail validation, and addresses nothing listens on: the command must read and
    // connect to none of them.
    const result = spawnSync(process.execPath, [MAIN, arg], {
      env: { PATH: process.env.PATH, KAFKA_BROKERS: 'not a broker list', MONGODB_URI: 'http://nowhere', PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    for (const s of listSettings()) {
      expect(result.stdout).toContain(
        `  ${s.name}  (default: ${s.default}; roles: ${s.roles.join(', ')})\n      ${s.description}\n`,
      );
    }
  });

  it('without it, the same bad settings stop startup with a message naming each', () => {
    const result = spawnSync(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, KAFKA_BROKERS: 'not a broker list', MONGODB_URI: 'http://nowhere' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('KAFKA_BROKERS="not a broker list"');
    expect(result.stderr).toContain('MONGODB_URI="http://nowhere"');
  });
});
