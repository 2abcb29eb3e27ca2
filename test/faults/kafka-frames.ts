/** Kafka api key of Produce requests: whose answers the gate drops to lose a producer's ack. */
export const PRODUCE = 0;

/** Kafka api key of OffsetCommit requests: what the gate holds to catch a worker between write and commit. */
export const OFFSET_COMMIT = 8;

export interface OffsetCommitRequest {
  apiVersion: number;
  groupId: string;
  /** Next offsets the consumer asked to commit, per topic and partition. */
  offsets: Array<{ topic: string; partition: number; offset: number }>;
}

/**
 * Decodes an OffsetCommit request frame (size prefix included), versions 2-7 (the non-flexible ones that
 * Kafka 4 still accepts; kafkajs 2.2.4 sends v5). Returns undefined for anything else: the suite then only
 * reports that a commit was held, not what it carried.
 */
export function parseOffsetCommit(frame: Buffer): OffsetCommitRequest | undefined {
  try {
    let at = 4;
    const int16 = () => ((at += 2), frame.readInt16BE(at - 2));
    const int32 = () => ((at += 4), frame.readInt32BE(at - 4));
    const int64 = () => ((at += 8), Number(frame.readBigInt64BE(at - 8)));
    const string = () => {
      const len = int16();
      if (len < 0) return null;
      at += len;
      return frame.toString('utf8', at - len, at);
    };
    if (int16() !== OFFSET_COMMIT) return undefined;
    const apiVersion = int16();
    if (apiVersion < 2 || apiVersion > 7) return undefined;
    int32(); // correlation id
    string(); // client id
    const groupId = string() ?? '';
    int32(); // generation
    string(); // member id
    if (apiVersion >= 7) string(); // group instance id
    if (apiVersion <= 4) int64(); // retention time
    const offsets: OffsetCommitRequest['offsets'] = [];
    for (let t = int32(); t > 0; t--) {
      const topic = string() ?? '';
      for (let p = int32(); p > 0; p--) {
        const partition = int32();
        const offset = int64();
        if (apiVersion >= 6) int32(); // leader epoch
        string(); // metadata
        offsets.push({ topic, partition, offset });
      }
    }
    return { apiVersion, groupId, offsets };
  } catch {
    return undefined;
  }
}
