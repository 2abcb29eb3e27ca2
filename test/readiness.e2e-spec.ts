import { afterAll, describe, expect, it } from '@jest/globals';

import { pollUntil } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess, type FunnelRole } from './support/funnel-process.js';
import { getJson, postJson, type HealthDetail, type ReadinessAnswer } from './support/http.js';
import { storedCount } from './support/mongo.js';

const READINGS = Array.from({ length: 30 }, (_, i) => ({ sensorId: `stall-${i % 3}`, metric: 'm', value: i }));

async function ingest(api: FunnelProcess): Promise<void> {
  expect((await postJson(`${api.url}/v1/points`, READINGS)).status).toBe(202);
}

interface ConsumerReadiness {
  status: number;
  consumer?: HealthDetail;
}

async function readiness(worker: FunnelProcess): Promise<ConsumerReadiness> {
  const res = await getJson<ReadinessAnswer>(`${worker.url}/health/ready`);
  return { status: res.status, consumer: res.json.details?.kafkaConsumer };
}

describe('worker readiness and a stalled consumer', () => {
  const env = isolatedEnv('stall');
  const started: FunnelProcess[] = [];
  const start = async (role: FunnelRole, extra: Record<string, string> = {}) => {
    const process = (await FunnelProcess.onFreePort(role, { ...env, ...extra })).start();
    started.push(process);
    await process.waitReady();
    return process;
  };

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
  }, 40_000);

  it('is not ready while its partitions have lag and it makes no progress for CONSUMER_STALL_MS, and ready again once it moves', async () => {
    const api = await start('api');
    // A first worker writes (and so announces a write on every partition), then leaves the group.
    const first = await start('worker');
    for (let i = 0; i < 6; i++) await ingest(api);
    await pollUntil('the first batch stored', async () => (await storedCount(env.MONGODB_URI)) === 6 * READINGS.length);
    await first.stop();

    // The next owner waits DEDUP_SETTLE_MS after the first one's last write before touching those
    // partitions: a real, bounded pause in which it takes nothing in while records wait.
    const second = await start('worker', { DEDUP_SETTLE_MS: '20000', CONSUMER_STALL_MS: '1000' });
    expect((await readiness(second)).status).toBe(200);
    for (let i = 0; i < 6; i++) await ingest(api);

    let stalled: ConsumerReadiness | undefined;
    await pollUntil(
      'readiness to report the stalled consumer',
      async () => {
        const now = await readiness(second);
        if (now.status === 503) stalled = now;
        return now.status === 503;
      },
      { timeoutMs: 15_000 },
    );
    expect(stalled?.consumer).toMatchObject({ status: 'down', state: 'joined', stalled: true });
    expect(stalled?.consumer?.lag).toBeGreaterThan(0);
    expect(stalled?.consumer?.idleMs).toBeGreaterThanOrEqual(1000);

    // Once the pause is over it writes everything and commits: lag 0, ready again.
    await pollUntil('every reading stored', async () => (await storedCount(env.MONGODB_URI)) === 12 * READINGS.length, {
      timeoutMs: 60_000,
    });
    await pollUntil('readiness back to 200', async () => (await readiness(second)).status === 200, {
      timeoutMs: 30_000,
    });
    expect((await readiness(second)).consumer).toMatchObject({ status: 'up', lag: 0 });
  }, 150_000);
});
