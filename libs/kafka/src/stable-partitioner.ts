// A partitioner that keeps each record on the partition it chose first, for the idempotent producer.
import { Partitioners, type ICustomPartitioner, type Message } from 'kafkajs';

/**
 * kafkajs' DefaultPartitioner, except that a record keeps the partition chosen for it on its first attempt.
 *
 * kafkajs runs the partitioner again on every retry of a send (sendMessages.js regroups the messages per
 * attempt), and the default one gives a keyless record the next partition in round robin each time. For an
 * idempotent producer that breaks both halves of the guarantee when an answer is lost after the broker wrote
 * the batch: the resent record goes to another partition under that partition's next sequence numbers, so
 * the broker writes it a second time; and the first partition's sequence numbers, which kafkajs hands back
 * after the failed attempt, go to the next batch there, which the broker takes for a duplicate of the written
 * one and acknowledges without writing. Kept on its partition, a resent batch carries the same producer id,
 * partition and sequence numbers, and the broker answers it from the batch it already holds.
 *
 * kafkajs passes the same message objects to every attempt of one send, so they key the memory (a WeakMap:
 * nothing outlives its send). A record with a key or an explicit partition is unaffected either way.
 */
export const RetryStablePartitioner: ICustomPartitioner = () => {
  const pick = Partitioners.DefaultPartitioner();
  const chosen = new WeakMap<Message, number>();
  return (args) => {
    const known = chosen.get(args.message);
    if (known !== undefined && args.partitionMetadata.some((p) => p.partitionId === known)) return known;
    const partition = pick(args);
    chosen.set(args.message, partition);
    return partition;
  };
};
