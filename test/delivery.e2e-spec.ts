import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { pollUntil } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type DeadLetter } from './support/http.js';
import { testKafka, workerCaughtUp } from './support/kafka.js';

describe('delivery guarantees: ids, idempotent retries, dead letters', () => {
  const env = isolatedEnv('delivery');
  let funnel: FunnelProcess;
  let mongo: MongoClient;

  const stored = (filter: Record<string, unknown>) => mongo.db().collection('points').countDocuments(filter);

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', env)).start();
    mongo = new MongoClient(env.MONGODB_URI);
    await funnel.waitReady();
  }, 90_000);

  afterAll(async () => {
    await funnel?.stop();
    await mongo?.close();
  }, 40_000);

  it('stores a request retried with the same Idempotency-Key once, and a new key again', async () => {
    const batch = [1, 2, 3].map((value) => ({ sensorId: 'idem', metric: 'm', value }));
    for (let i = 0; i < 3; i++) {
      expect(await postJson(`${funnel.url}/v1/points`, batch, { 'Idempotency-Key': 'order-42' })).toMatchObject({
        status: 202,
      });
    }
    await pollUntil('first copy stored', async () => (await stored({ 'meta.sensorId': 'idem' })) >= 3);
    expect(await postJson(`${funnel.url}/v1/points`, batch, { 'Idempotency-Key': 'order-43' })).toMatchObject({
      status: 202,
    });
    await pollUntil('second key stored', async () => (await stored({ 'meta.sensorId': 'idem' })) >= 6);
    // Every retry's record written (or dropped) and committed: nothing more can arrive.
    await workerCaughtUp(env);
    expect(await stored({ 'meta.sensorId': 'idem' })).toBe(6);
  }, 60_000);

  it('stores readings with client ids once, however often they are sent', async () => {
    const readings = Array.from({ length: 50 }, (_, i) => ({
      id: `client-${i}`,
      sensorId: 'client-ids',
      metric: 'm',
      value: i,
    }));
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${funnel.url}/v1/points`, readings)).status).toBe(202);
    }
    // Two copies of the same id, sensor and metric inside one request are refused (issue 13), storing nothing.
    expect((await postJson(`${funnel.url}/v1/points`, [readings[0], readings[0]])).status).toBe(400);
    await pollUntil('client ids stored', async () => (await stored({ 'meta.sensorId': 'client-ids' })) >= 50);
    await workerCaughtUp(env);
    expect(await stored({ 'meta.sensorId': 'client-ids' })).toBe(50);
    const ids = await mongo.db().collection('points').distinct('id', { 'meta.sensorId': 'client-ids' });
    expect(ids.sort()).toEqual(readings.map((r) => r.id).sort());
  }, 60_000);

  it('rejects an Idempotency-Key that is not 1-128 printable ASCII characters', async () => {
    const res = await postJson(
      `${funnel.url}/v1/points`,
      { sensorId: 's', metric: 'm', value: 1 },
      { 'Idempotency-Key': 'x'.repeat(129) },
    );
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('Idempotency-Key');
  }, 30_000);

  it('sends records that break the contract to <topic>.dlq with the reason, lists them, and keeps the partition moving', async () => {
    const kafka = testKafka('e2e-poison');
    const producer = kafka.producer();
    await producer.connect();
    const poison = [
      'not json at all',
      JSON.stringify({
        v: 1,
        receivedAt: Date.now(),
        points: [{ id: 'p', sensorId: 's', metric: 'm', value: 'NaN', ts: 1 }],
      }),
    ];
    try {
      for (let p = 0; p < 3; p++) {
        await producer.send({
          topic: env.KAFKA_TOPIC,
          acks: -1,
          messages: poison.map((value) => ({ value, partition: p })),
        });
      }
    } finally {
      await producer.disconnect();
    }
    // Good readings sent after the poison on every partition still arrive.
    const good = Array.from({ length: 30 }, (_, i) => ({ sensorId: 'after-poison', metric: 'm', value: i }));
    expect((await postJson(`${funnel.url}/v1/points`, good)).status).toBe(202);
    await pollUntil('good readings stored', async () => (await stored({ 'meta.sensorId': 'after-poison' })) === 30);

    let letters: DeadLetter[] = [];
    await pollUntil('dead letters listed', async () => {
      letters = (await getJson<DeadLetter[]>(`${funnel.url}/v1/dlq?limit=100`)).json;
      return letters.length === 6;
    });
    expect(letters.map((l) => l.reason).sort()).toEqual([
      ...Array(3).fill('points[0] has a value that is not a finite number'),
      ...Array(3).fill('value is not JSON'),
    ]);
    expect(new Set(letters.map((l) => l.partition))).toEqual(new Set([0, 1, 2]));

    // The dead-letter topic holds them too, with the reason and source position in headers.
    const consumer = kafka.consumer({ groupId: `${env.KAFKA_GROUP_ID}-dlq-reader` });
    const seen: Record<string, string>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${env.KAFKA_TOPIC}.dlq`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
      },
    });
    await pollUntil('dlq topic read', async () => seen.length >= 6, { timeoutMs: 30_000 });
    await consumer.disconnect();
    expect(seen[0]).toMatchObject({ 'funnel-dlq-source-topic': env.KAFKA_TOPIC });
    expect(seen.map((h) => `${h['funnel-dlq-source-partition']}@${h['funnel-dlq-source-offset']}`).sort()).toEqual(
      letters.map((l) => `${l.partition}@${l.offset}`).sort(),
    );

    // Replay sends them back to the main topic; still broken, they come back as dead letters of the replay.
    const replay = await postJson(`${funnel.url}/v1/dlq/replay`, { ids: [letters[0].id] });
    expect(replay).toMatchObject({ status: 202, json: { replayed: 1 } });
    await pollUntil('replayed record dead-lettered again', async () => {
      const now = (await getJson<DeadLetter[]>(`${funnel.url}/v1/dlq?limit=100`)).json;
      return now.length === 7 && now.some((l) => l.id === letters[0].id && l.replayedAt);
    });
    expect((await postJson(`${funnel.url}/v1/dlq/replay`, { ids: ['nope:0:1'] })).status).toBe(404);
  }, 90_000);
});
