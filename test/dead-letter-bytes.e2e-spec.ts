/**
 * Holds the real broker, worker, store and api to a dead letter's bytes: a record value that is binary (a leading
 * 0 byte, which Nest's Kafka parser keeps as a Buffer) or not UTF-8 (which it would turn into lossy text) reaches
 * the dead-letter topic, the stored letter and a replay exactly as it was produced.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaMessage } from 'kafkajs';

import { pollUntil } from '@funnel/dev-infra';

import { isolatedEnv } from './support/env.js';
import { FunnelProcess } from './support/funnel-process.js';
import { getJson, postJson, type DeadLetter } from './support/http.js';
import { testKafka, workerCaughtUp } from './support/kafka.js';

/** A record read back, with its partition. */
type Read = { partition: number; message: KafkaMessage };
/** What GET /v1/dlq says of a letter's value. */
type ListedLetter = DeadLetter & { value: string; encoding?: string };

/** The values produced, by name: none of them a record the worker can use. */
const VALUES: Record<string, Buffer> = {
  // A schema-registry frame (0 byte, schema id 7) around ASCII: valid UTF-8, kept as a Buffer by Nest's parser.
  zeroFramedText: Buffer.concat([Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07]), Buffer.from('{"v":1}')]),
  // A leading 0 byte and bytes that are no UTF-8 (not the 0x00 0x46 of Funnel's compact records).
  zeroFramedBinary: Buffer.from([0x00, 0x01, 0xff, 0x80, 0x00, 0xc0, 0xaf]),
  // Never UTF-8: Nest's parser would turn these into U+FFFD characters.
  invalidUtf8: Buffer.from([0xff, 0xfe, 0x80]),
  // JSON that parses but is no record: Nest's parser makes an object of it, which used to be re-stringified.
  spacedJson: Buffer.from('{ "v" : 99,\n  "note": "kept as written" }'),
};
/** Which of VALUES are not valid UTF-8, worked out here byte by byte (so the store must hold them as base64). */
const NOT_UTF8 = new Set(['zeroFramedBinary', 'invalidUtf8']);

describe('dead letters keep a record value byte for byte', () => {
  const env = isolatedEnv('dlq-bytes');
  const kafka = testKafka('e2e-dlq-bytes');
  let funnel: FunnelProcess;
  /** Source offset (partition 0) of each value produced, by name. */
  const offsets = new Map<string, string>();

  /** The records of `topic` from its start, once `enough` says so (a throwaway group reads them). */
  async function readTopic(topic: string, enough: (messages: Read[]) => boolean): Promise<Read[]> {
    const consumer = kafka.consumer({ groupId: `${env.KAFKA_GROUP_ID}-read-${Date.now()}` });
    const messages: Read[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void messages.push({ partition, message }) });
      await pollUntil(`records of ${topic}`, async () => enough(messages), { timeoutMs: 30_000 });
    } finally {
      await consumer.disconnect();
    }
    return messages;
  }
  const listed = async () => (await getJson<ListedLetter[]>(`${funnel.url}/v1/dlq?limit=100`)).json;
  /** The bytes a listed letter stands for, decoded here from what the route documents. */
  const bytesOf = (letter: ListedLetter) => Buffer.from(letter.value, letter.encoding === 'base64' ? 'base64' : 'utf8');
  const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

  beforeAll(async () => {
    funnel = (await FunnelProcess.onFreePort('all', { ...env, LOG_LEVEL: 'warn' })).start();
    await funnel.waitReady();
    const producer = kafka.producer();
    await producer.connect();
    try {
      for (const [name, value] of Object.entries(VALUES)) {
        const [ack] = await producer.send({ topic: env.KAFKA_TOPIC, acks: -1, messages: [{ value, partition: 0 }] });
        offsets.set(name, ack.baseOffset ?? '');
      }
    } finally {
      await producer.disconnect();
    }
    await workerCaughtUp(env);
  }, 120_000);

  afterAll(async () => {
    await funnel?.stop();
  }, 60_000);

  it('sends the very bytes produced to <topic>.dlq', async () => {
    const dlq = await readTopic(`${env.KAFKA_TOPIC}.dlq`, (m) => m.length >= offsets.size);
    expect(dlq).toHaveLength(offsets.size);
    for (const [name, offset] of offsets) {
      const copy = dlq.find((r) => header(r.message, 'funnel-dlq-source-offset') === offset)?.message;
      expect({ name, partition: copy && header(copy, 'funnel-dlq-source-partition') }).toEqual({
        name,
        partition: '0',
      });
      expect({ name, equal: copy?.value?.equals(VALUES[name]) }).toEqual({ name, equal: true });
    }
  }, 60_000);

  it('lists each letter so that its exact bytes can be recovered: text as itself, other bytes as base64', async () => {
    const letters = await listed();
    expect(letters).toHaveLength(offsets.size);
    for (const [name, offset] of offsets) {
      const letter = letters.find((l) => l.id === `${env.KAFKA_TOPIC}:0:${offset}`);
      expect(letter).toBeDefined();
      const base64 = NOT_UTF8.has(name);
      expect({ name, encoding: letter?.encoding }).toEqual({ name, encoding: base64 ? 'base64' : undefined });
      expect({ name, equal: bytesOf(letter!).equals(VALUES[name]) }).toEqual({ name, equal: true });
      if (!base64) expect(letter?.value).toBe(VALUES[name].toString('latin1')); // ASCII: one character a byte
    }
  }, 30_000);

  it('replays each letter as the same bytes, which dead-letter again with those bytes intact', async () => {
    const ids = [...offsets.values()].map((offset) => `${env.KAFKA_TOPIC}:0:${offset}`);
    const reply = await postJson<{ replayed: number }>(`${funnel.url}/v1/dlq/replay`, { ids });
    expect(reply).toMatchObject({ status: 202, json: { replayed: ids.length } });
    // The main topic holds each value twice now: as produced, and as replayed after it.
    const main = await readTopic(env.KAFKA_TOPIC, (m) => m.length >= 2 * offsets.size);
    expect(main).toHaveLength(2 * offsets.size);
    const original = [...offsets.values()];
    const replayed = main.filter((r) => r.partition !== 0 || !original.includes(r.message.offset));
    for (const [name, value] of Object.entries(VALUES)) {
      const copies = replayed.filter((r) => r.message.value?.equals(value)).length;
      expect({ name, copies }).toEqual({ name, copies: 1 });
    }
    // Still unusable, each becomes a new dead letter (its new offset) holding the same bytes.
    await workerCaughtUp(env);
    const again = (await listed()).filter((l) => !ids.includes(l.id));
    expect(again).toHaveLength(offsets.size);
    expect(again.map((l) => bytesOf(l).toString('hex')).sort()).toEqual(
      Object.values(VALUES)
        .map((v) => v.toString('hex'))
        .sort(),
    );
  }, 90_000);
});
