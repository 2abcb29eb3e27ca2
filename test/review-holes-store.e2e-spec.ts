/**
 * Holds the real api, broker, worker and store to the holes issue 13's review found where records are stored or
 * replayed: dead letters longer than the stored copy, a letter replayed twice, and an unbounded id check.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MongoClient } from 'mongodb';

import { Scrape } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type DeadLetter } from './support/http.js';
import { testKafka, workerCaughtUp } from './support/kafka.js';

/** What the listing shows of a value, and all a letter stored by an earlier version kept of it. */
const PREVIEW_CHARS = 64 * 1024;

describe('dead letters and the id check (issue 13)', () => {
  const env = isolatedEnv('holes-store');
  let funnel: FunnelProcess;
  let mongo: MongoClient;
  const kafka = testKafka('e2e-holes-store');

  const letters = () => mongo.db().collection<Record<string, unknown>>('points_dead_letters');
  const stored = (sensorId: string) => mongo.db().collection('points').countDocuments({ 'meta.sensorId': sensorId });
  const replay = (ids: string[]) =>
    postJson<{ replayed?: number; message?: string }>(`${funnel.url}/v1/dlq/replay`, { ids });
  /** Every record value on the main topic, read from the start by a throwaway group. */
  async function topicValues(want: (values: string[]) => boolean): Promise<string[]> {
    const consumer = kafka.consumer({ groupId: `${env.KAFKA_GROUP_ID}-reader-${Date.now()}` });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: env.KAFKA_TOPIC, fromBeginning: true });
      let done!: () => void;
      const enough = new Promise<void>((resolve) => (done = resolve));
      await consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString('utf8') ?? '');
          if (want(values)) done();
        },
      });
      await enough;
    } finally {
      await consumer.disconnect();
    }
    return values;
  }
  /** Records on the main topic, every partition. */
  async function topicEnd(): Promise<number> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(env.KAFKA_TOPIC)).reduce((sum, p) => sum + Number(p.high), 0);
    } finally {
      await admin.disconnect();
    }
  }

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', { ...env, LOG_LEVEL: 'warn' })).start();
    mongo = new MongoClient(env.MONGODB_URI);
    await funnel.waitReady();
  }, 90_000);

  afterAll(async () => {
    await funnel?.stop();
    await mongo?.close();
  }, 60_000);

  it('replays a dead letter longer than the listing shows as the whole record, byte for byte', async () => {
    // 2,000 readings (~150 KB), the last one invalid: the worker dead-letters the whole record.
    const points = Array.from({ length: 2000 }, (_, i) => ({
      id: `long-${i}`,
      sensorId: 'holes-long-letter',
      metric: 'temperature',
      value: i === 1999 ? 'hot' : i,
      ts: 1_700_000_000_000 + i,
    }));
    const value = JSON.stringify({ v: 1, receivedAt: Date.now(), points });
    expect(value.length).toBeGreaterThan(2 * PREVIEW_CHARS);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: env.KAFKA_TOPIC, acks: -1, messages: [{ value, partition: 0 }] });
    await producer.disconnect();
    await workerCaughtUp(env);

    const listed = (await getJson<Array<DeadLetter & { value: string }>>(`${funnel.url}/v1/dlq`)).json;
    expect(listed).toHaveLength(1);
    expect(listed[0].value).toBe(value.slice(0, PREVIEW_CHARS)); // the listing stays small
    expect(await replay([listed[0].id])).toMatchObject({ status: 202, json: { replayed: 1 } });
    // The topic now holds the record twice, both whole: the original and the replayed copy.
    const values = await topicValues((v) => v.filter((x) => x.length >= PREVIEW_CHARS).length >= 2);
    const long = values.filter((x) => x.length >= PREVIEW_CHARS);
    expect(long.map((x) => x.length)).toEqual([value.length, value.length]);
    expect(long.every((x) => x === value)).toBe(true);
    expect(await stored('holes-long-letter')).toBe(0);
  }, 60_000);

  it('refuses (422, nothing published) a letter an earlier version stored cut to its first 64 KiB', async () => {
    const id = `${env.KAFKA_TOPIC}:0:999999`;
    await letters().insertOne({
      _id: id as never,
      sourceTopic: env.KAFKA_TOPIC,
      partition: 0,
      offset: '999999',
      reason: 'value is not JSON',
      key: null,
      value: `{${'x'.repeat(PREVIEW_CHARS - 1)}`,
      deadLetteredAt: new Date(),
    });
    const before = await topicEnd();
    const reply = await replay([id]);
    expect(reply.status).toBe(422);
    expect(reply.json.message).toContain(`dead letter ${id} cannot be replayed`);
    expect(reply.json.message).toContain('must not publish a truncated record');
    expect(await topicEnd()).toBe(before);
    expect((await letters().findOne({ _id: id as never }))?.replayedAt).toBeUndefined();
  }, 30_000);

  it('replays a letter once: a second replay, even at the same time, is 409 and its readings are stored once', async () => {
    // A valid record some earlier worker dead-lettered (say, a bug since fixed): api-made ids, no client ids, so
    // nothing but the replay marker stops a second replay from storing every reading again.
    const points = Array.from({ length: 50 }, (_, i) => ({
      id: `r${i}`,
      sensorId: 'holes-replay-once',
      metric: 'temperature',
      value: i,
      ts: 1_700_000_000_000 + i * 1000,
    }));
    const id = `${env.KAFKA_TOPIC}:1:888888`;
    await letters().insertOne({
      _id: id as never,
      sourceTopic: env.KAFKA_TOPIC,
      partition: 1,
      offset: '888888',
      reason: 'rejected by an older worker',
      key: null,
      value: JSON.stringify({ v: 1, receivedAt: Date.now(), points }),
      valueLength: JSON.stringify({ v: 1, receivedAt: Date.now(), points }).length,
      deadLetteredAt: new Date(),
    });
    const both = await Promise.all([replay([id]), replay([id])]);
    expect(both.map((r) => r.status).sort()).toEqual([202, 409]);
    const again = await replay([id]);
    expect(again.status).toBe(409);
    expect(again.json.message).toMatch(new RegExp(`already replayed: ${id} \\(at \\d{4}-`));
    await workerCaughtUp(env);
    expect(await stored('holes-replay-once')).toBe(points.length);
    const ids = await mongo.db().collection('points').distinct('id', { 'meta.sensorId': 'holes-replay-once' });
    expect(ids.sort()).toEqual(points.map((p) => p.id).sort());
  }, 60_000);

  it('stores one request of 10,000 sensors at ts=0 with an Idempotency-Key, in id-check queries of at most 1,000', async () => {
    // Readings of today beside it, so an unbounded check would read the whole time range with 10,000-entry $in lists.
    const today = Array.from({ length: 2000 }, (_, i) => ({
      sensorId: `holes-today-${i % 20}`,
      metric: 'm',
      value: i,
    }));
    expect((await postJson(`${funnel.url}/v1/points`, today, { 'Idempotency-Key': 'holes-today' })).status).toBe(202);
    const before = await Scrape.of(`${funnel.url}/metrics`);
    const readings = Array.from({ length: 10_000 }, (_, i) => ({
      sensorId: `holes-big-${i}`,
      metric: 'm',
      value: i,
      ts: 0,
    }));
    const reply = await postJson(`${funnel.url}/v1/points`, readings, { 'Idempotency-Key': 'holes-10k-sensors' });
    expect(reply).toMatchObject({ status: 202, json: { accepted: 10_000 } });
    // Stored before the retry, so the retry's batch meets every key stored (on a regular collection a first delivery
    // is inserted unchecked, and a retry in the same batch would only repeat its keys inside the batch).
    await workerCaughtUp(env, 60_000);
    // Sent again under the same key (a client retry): the check finds every reading and stores none twice.
    expect(
      (await postJson(`${funnel.url}/v1/points`, readings, { 'Idempotency-Key': 'holes-10k-sensors' })).status,
    ).toBe(202);
    await workerCaughtUp(env, 60_000);
    expect(
      await mongo
        .db()
        .collection('points')
        .countDocuments({ 'meta.sensorId': /^holes-big-/ }),
    ).toBe(10_000);

    const after = await Scrape.of(`${funnel.url}/metrics`);
    const delta = (name: string, labels: Record<string, string> = {}) =>
      after.sum(name, labels) - before.sum(name, labels);
    const queries = delta('funnel_id_check_query_readings_count');
    // The retry's 10,000 readings were checked (on a time-series collection the first copy's too), 1,000 at a time
    // at most (ID_CHECK_NARROW_CHUNK: they share one instant, so no query's time range reaches today's readings). On
    // a regular collection the check follows the insert's refusal of the retry's keys (BatchWriter).
    expect(delta('funnel_id_check_query_readings_sum')).toBeGreaterThanOrEqual(10_000);
    expect(queries).toBeGreaterThanOrEqual(10);
    expect(delta('funnel_id_check_query_readings_bucket', { le: '1000' })).toBe(queries);
  }, 120_000);
});
