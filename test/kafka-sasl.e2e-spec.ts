// Kafka over SASL_SSL with SCRAM-SHA-512: a broker of the spec's own with a TLS certificate made by keytool and a
// SCRAM user; Funnel with the right credentials stores readings, with a wrong password it stays not ready.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { freePort, pollUntil, runKafkaTool, startKafka, type KafkaHandle } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { postJson } from './support/http.js';
import { storedCount } from './support/mongo.js';

const USER = 'funnel';
const PASSWORD = 'scram-secret-for-the-e2e-broker';
const STORE_PASSWORD = 'keystore-pass';

describe('Kafka SASL_SSL + SCRAM-SHA-512 (KAFKA_SASL_*, KAFKA_SSL, KAFKA_SSL_CA_FILE)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'funnel-sasl-'));
  const keystore = path.join(dir, 'broker.p12');
  const caFile = path.join(dir, 'ca.pem');
  let broker: KafkaHandle;
  let saslPort: number;
  const started: FunnelProcess[] = [];

  beforeAll(async () => {
    execFileSync(
      'keytool',
      [
        '-genkeypair',
        '-alias',
        'broker',
        '-keyalg',
        'RSA',
        '-keysize',
        '2048',
        '-validity',
        '2',
        '-dname',
        'CN=127.0.0.1',
        '-ext',
        'SAN=IP:127.0.0.1',
        '-storetype',
        'PKCS12',
        '-keystore',
        keystore,
        '-storepass',
        STORE_PASSWORD,
        '-keypass',
        STORE_PASSWORD,
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'keytool',
      ['-exportcert', '-rfc', '-alias', 'broker', '-keystore', keystore, '-storepass', STORE_PASSWORD, '-file', caFile],
      { stdio: 'ignore' },
    );

    const port = await freePort();
    saslPort = await freePort();
    const controllerPort = await freePort();
    // A PLAINTEXT listener stays for the launcher's readiness probe and the SCRAM set-up; Funnel gets SASL_SSL only.
    broker = await startKafka({
      port,
      controllerPort,
      numPartitions: 2,
      log: false,
      extraProperties: {
        listeners: `PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort},CONTROLLER://127.0.0.1:${controllerPort}`,
        'advertised.listeners': `PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${saslPort}`,
        'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL',
        'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
        'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
          'org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': keystore,
        'ssl.keystore.password': STORE_PASSWORD,
        'ssl.key.password': STORE_PASSWORD,
      },
    });
    const added = await runKafkaTool(
      'org.apache.kafka.tools.ConfigCommand',
      [
        '--bootstrap-server',
        `127.0.0.1:${port}`,
        '--alter',
        '--entity-type',
        'users',
        '--entity-name',
        USER,
        '--add-config',
        `SCRAM-SHA-512=[iterations=4096,password=${PASSWORD}]`,
      ],
      { heapMb: 256, timeoutMs: 120_000 },
    );
    if (added.code !== 0) throw new Error(`adding the SCRAM user failed:\n${added.out}`);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const launch = async (password: string) => {
    const env: Record<string, string> = {
      ...isolatedEnv('sasl'),
      KAFKA_BROKERS: `127.0.0.1:${saslPort}`,
      KAFKA_SSL: 'on',
      KAFKA_SSL_CA_FILE: caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: USER,
      KAFKA_SASL_PASSWORD: password,
    };
    const funnel = (await FunnelProcess.onFreePort('all', env)).start();
    started.push(funnel);
    return { funnel, env };
  };

  it('with the right credentials, readings go through the SASL_SSL listener into MongoDB', async () => {
    const { funnel, env } = await launch(PASSWORD);
    await funnel.waitReady(90_000);
    const readings = [1, 2, 3].map((value) => ({ sensorId: 'sasl', metric: 'm', value }));
    expect((await postJson(`${funnel.url}/v1/points`, readings)).status).toBe(202);
    await pollUntil('the readings stored', async () => (await storedCount(env.MONGODB_URI)) === readings.length, {
      timeoutMs: 60_000,
    });
    expect(funnel.output()).not.toContain(PASSWORD);
  }, 150_000);

  it('with a wrong password it is not ready, says why in its log, and accepts no reading', async () => {
    const wrong = 'not-the-password-at-all';
    const { funnel } = await launch(wrong);
    await pollUntil(
      'a log line naming the failed SASL authentication',
      async () => /SASL|authentication/i.test(funnel.output()),
      {
        timeoutMs: 60_000,
      },
    );
    const ready = await fetch(`${funnel.url}/health/ready`);
    expect(ready.status).toBe(503);
    const posted = await postJson(`${funnel.url}/v1/points`, { sensorId: 'sasl-wrong', metric: 'm', value: 1 });
    // 503 (no broker) or 401 (its admin token not stored yet while it cannot start): never a 2xx.
    expect({ status: posted.status, acknowledged: posted.status >= 200 && posted.status < 300 }).toMatchObject({
      acknowledged: false,
    });
    expect(funnel.output()).not.toContain(wrong);
  }, 120_000);
});
