// The dead-letter topic: its name and how an unusable record is sent there.
import type { Producer } from 'kafkajs';

/** The dead-letter topic of a topic. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dlq`;
}

/** Where a dead-lettered record came from. */
export interface DeadLetterSource {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
}

/**
 * Sends an unusable record's value to `<topic>.dlq`, byte for byte as it was read (not as Nest's parser turned it
 * into a string or object), with headers saying why and where it came from, awaiting every in-sync replica's ack
 * (acks -1): its offset may be committed once this resolves.
 */
export async function sendToDeadLetterTopic(
  producer: Pick<Producer, 'send'>,
  source: DeadLetterSource,
  value: Buffer | null,
  reason: string,
): Promise<void> {
  await producer.send({
    topic: deadLetterTopic(source.topic),
    acks: -1,
    messages: [
      {
        key: source.key,
        value,
        headers: {
          'funnel-dlq-reason': reason,
          'funnel-dlq-source-topic': source.topic,
          'funnel-dlq-source-partition': String(source.partition),
          'funnel-dlq-source-offset': source.offset,
          'funnel-dlq-at': new Date().toISOString(),
        },
      },
    ],
  });
}
