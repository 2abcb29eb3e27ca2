/**
 * The Kafka record value the api publishes and the worker consumes (JSON).
 * One record carries up to KAFKA_POINTS_PER_RECORD readings: of one request when their ids came from the
 * client (`idem`), else possibly of several concurrent requests packed together.
 */
export interface PointsRecord {
  /** Contract version; bump on an incompatible change. */
  v: 1;
  /** Epoch ms when the api received the request (the earliest of them, for readings of several requests). */
  receivedAt: number;
  /**
   * True when the ids came from the client (an `id` field or an Idempotency-Key), so a client retry may
   * repeat them: the worker then checks them against what is stored. Api-made ids are unique per request.
   */
  idem?: boolean;
  /**
   * With `idem`: the ids came from a body in which every reading carries its own timestamp (line protocol with
   * every line timestamped), so a retry repeats the timestamps too and the worker matches ids at their exact
   * time, without looking back over IDEMPOTENCY_WINDOW_MS. A worker that does not know the field looks back:
   * slower, never wrong.
   */
  exactTs?: boolean;
  points: WirePoint[];
}

/** A validated reading, normalised: `ts` is always epoch milliseconds. */
export interface WirePoint {
  /** Unique id of the reading: the client's, or derived by the api. */
  id: string;
  sensorId: string;
  metric: string;
  value: number;
  ts: number;
  tags?: Record<string, string>;
}
