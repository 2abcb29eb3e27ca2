// Every setting Funnel reads, with its type, default, range and documentation, validated at boot.
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsString, Matches, Max, Min, ValidateBy } from 'class-validator';
import ms from 'ms';

import { Setting } from './setting.decorator.js';

/** Why a broker list is unusable, or undefined: comma-separated host:port, ports 1-65535. */
export function brokerListProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/.test(value)) {
    return 'must be a comma-separated list of host:port';
  }
  const bad = value.split(',').find((broker) => {
    const port = Number(broker.slice(broker.lastIndexOf(':') + 1));
    return port < 1 || port > 65535;
  });
  return bad === undefined ? undefined : `has a port outside 1-65535 (${bad})`;
}

const IsBrokerList = (): PropertyDecorator =>
  ValidateBy({
    name: 'isBrokerList',
    validator: {
      validate: (value) => brokerListProblem(value) === undefined,
      defaultMessage: (args) => brokerListProblem(args?.value) ?? 'is invalid',
    },
  });

export const ROLES = ['api', 'worker', 'all'] as const;
export type FunnelRole = (typeof ROLES)[number];
export const GRANULARITIES = ['seconds', 'minutes', 'hours'] as const;
export type TimeSeriesGranularity = (typeof GRANULARITIES)[number];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
/** Exactly `true` or `false` as a boolean (as strict as the enum settings); anything else stays, for @IsBoolean to name. */
const toBool = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

/** A retention as ms: `forever` is 0; otherwise a duration such as `90d`, `12h`, `30m` (ms's syntax). */
export function parseRetentionMs(text: string): number | undefined {
  const t = text.trim();
  if (t === 'forever') return 0;
  if (!/^\d+(\.\d+)?\s*[a-z]+$/i.test(t)) return undefined;
  const parsed = ms(t as ms.StringValue);
  return typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 60_000 ? parsed : undefined;
}

const HALT_POINTS = ['none', 'compaction-merged', 'rollup-written', 'rebuild-written'] as const;
export type TiersHaltPoint = (typeof HALT_POINTS)[number];

function retention(tier: string, minDays = 0): PropertyDecorator {
  return (target, key) => {
    Setting({
      default: 'forever',
      description: `How long ${tier} are kept: \`forever\` or a duration of at least ${minDays > 0 ? `${minDays} days` : 'a minute'} (\`90d\`, \`12h\`); enforced by TTL indexes on MongoDB and by a sweep in the worker where the server enforces no TTL (the stand-in)`,
    })(target, key);
    ValidateBy({
      name: 'retention',
      validator: {
        validate: (value) => {
          const keep = typeof value === 'string' ? parseRetentionMs(value) : undefined;
          return keep !== undefined && (keep === 0 || keep >= minDays * 86_400_000);
        },
        defaultMessage: () =>
          `${String(key)} must be \`forever\` or a duration of at least ${minDays > 0 ? `${minDays} days` : 'a minute'} such as 90d, 12h, 30m`,
      },
    })(target, key);
  };
}

/**
 * Every setting Funnel reads from the environment, validated once at boot.
 * Feature code injects this class; nothing else reads process.env.
 */
export class FunnelConfig {
  @Setting({
    default: 'all',
    description: 'Process role: api (HTTP + producer), worker (consumer + flush), or all (both in one process)',
  })
  @IsIn(ROLES)
  FUNNEL_ROLE!: FunnelRole;

  @Setting({
    default: '127.0.0.1',
    description: 'Address the HTTP servers bind to: loopback unless set; containers set 0.0.0.0 to be reachable',
  })
  @IsString()
  @Matches(/^[^\s]+$/, { message: 'must be an address or host name without spaces' })
  HOST!: string;

  @Setting({
    default: '3000',
    description: 'HTTP port of the api role (ingest, aggregates, docs, health)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT!: number;

  @Setting({ default: '3001', description: 'HTTP port of the worker role (health probes)', roles: ['worker'] })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(65535)
  WORKER_PORT!: number;

  @Setting({ default: '127.0.0.1:9092', description: 'Comma-separated Kafka bootstrap brokers (host:port)' })
  @IsBrokerList()
  KAFKA_BROKERS!: string;

  @Setting({
    default: 'funnel.points',
    description: 'Kafka topic the api publishes readings to and the worker consumes',
  })
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be a Kafka topic name: 1-200 of [A-Za-z0-9._-]' })
  KAFKA_TOPIC!: string;

  @Setting({ default: 'funnel', description: 'Kafka client id prefix' })
  @Matches(/^[A-Za-z0-9._-]{1,100}$/, { message: 'must be 1-100 of [A-Za-z0-9._-]' })
  KAFKA_CLIENT_ID!: string;

  @Setting({ default: 'funnel-worker', description: 'Kafka consumer group of the workers', roles: ['worker', 'all'] })
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'must be 1-200 of [A-Za-z0-9._-]' })
  KAFKA_GROUP_ID!: string;

  @Setting({
    default: '3',
    description: 'Partitions of KAFKA_TOPIC when Funnel creates it (an existing topic is left as it is)',
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  KAFKA_TOPIC_PARTITIONS!: number;

  // --- Replication (issue 16): topics survive a broker loss and writes wait for a majority. ---
  @Setting({
    default: '0',
    description:
      'Replication factor of the topics Funnel creates (0 = 3 when the cluster has at least 3 brokers, else the broker count); above the broker count, startup is refused',
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  KAFKA_REPLICATION_FACTOR!: number;

  @Setting({
    default: '0',
    description:
      'min.insync.replicas of the topics Funnel creates (0 = 2 with 3 or more replicas, else 1); an existing topic below it (or below the partitions or replication factor) is warned about, not altered',
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  KAFKA_MIN_INSYNC_REPLICAS!: number;

  @Setting({
    default: 'majority',
    description:
      "MongoDB write concern of the worker's inserts and rollup writes: majority or a number of members (1 = the primary alone)",
    roles: ['worker', 'all'],
  })
  // 0 (unacknowledged) is refused: the worker commits offsets only after a write it knows landed.
  @Matches(/^(majority|[1-9]\d?)$/, { message: 'must be majority or a number of members (1-99)' })
  MONGODB_WRITE_CONCERN!: string;

  @Setting({
    default: '500',
    description:
      'Readings packed into one Kafka record at most (a request is split into records of this size; concurrent requests with api-made ids share records)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  KAFKA_POINTS_PER_RECORD!: number;

  @Setting({
    default: '2',
    description:
      'How long (ms) the api holds a produce call open for more requests once one is queued and a call is free (0 = send at once); the ack still waits for the broker',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  KAFKA_LINGER_MS!: number;

  @Setting({
    default: '300',
    description:
      "How far (percent) the api's JavaScript heap may grow past what the last full garbage collection kept before the next one (V8's --heap-growing-percent; 0 = V8's own choice). V8 picks about 30% for the api, so under load a full collection (a pause of 10-100 ms that holds up every request in flight) came every 5-10 s; at 300 one comes about every minute or two, for some 100 MB more memory",
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  API_HEAP_GROWTH_PERCENT!: number;

  @Setting({
    default: 'mongodb://127.0.0.1:27017/funnel',
    description: 'MongoDB connection string (database in the path)',
  })
  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'must be a mongodb:// or mongodb+srv:// URI' })
  MONGODB_URI!: string;

  @Setting({ default: 'points', description: 'Name of the time-series collection holding readings' })
  @Matches(/^[A-Za-z0-9_-]{1,100}$/, { message: 'must be 1-100 of [A-Za-z0-9_-]' })
  MONGODB_COLLECTION!: string;

  // --- Store capacity (issue 16): a bounded local store stops writing loudly instead of stalling. ---
  @Setting({
    default: '0',
    description:
      'Documents the MongoDB server can hold (0: no limit, right for a real MongoDB). devstack sets it for the in-memory stand-in; at 80 % the worker warns, at the limit it stops writing and pauses consumption',
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000000000000)
  MONGODB_CAPACITY_DOCS!: number;

  @Setting({
    default: '1000',
    description:
      'With the store full (MONGODB_CAPACITY_DOCS), the api answers 503 once the worker group has more than this many Kafka records acknowledged but not stored',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000000000)
  STORE_FULL_BACKLOG_RECORDS!: number;
  // --- end of store capacity ---

  @Setting({ default: 'seconds', description: 'Time-series granularity of the collection: seconds, minutes or hours' })
  @IsIn(GRANULARITIES)
  TS_GRANULARITY!: TimeSeriesGranularity;

  @Setting({
    default: '2000',
    description:
      'Worker writes a reading to MongoDB within about this long of taking it in (ms): a flush starts once the oldest buffered reading is this old less the time the last write took',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600000)
  FLUSH_INTERVAL_MS!: number;

  @Setting({
    default: '20000',
    description: 'Worker flushes as soon as its buffer holds this many readings',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  FLUSH_MAX_POINTS!: number;

  @Setting({
    default: '4',
    description:
      "Worker splits a flush's insert into up to this many insertMany calls run at once (chunks of at least 1000 readings), so that the server inserts one while the driver encodes the next",
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  FLUSH_WRITE_STREAMS!: number;

  @Setting({
    default: '50000',
    description:
      'Worker pauses consumption when its buffer holds this many readings, and resumes when flushes drain it',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000000)
  BUFFER_HIGH_WATER!: number;

  @Setting({
    default: '60000',
    description:
      'Worker readiness turns false when the consumer has taken in and committed nothing for this long (ms) while its partitions have lag',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3600000)
  CONSUMER_STALL_MS!: number;

  @Setting({
    default: '10000',
    description:
      'After taking over a partition, how long to wait before writing replayed readings when the previous owner announced a write this recently (ms): lets a write still in flight land before ids are checked',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600000)
  DEDUP_SETTLE_MS!: number;

  @Setting({
    default: '86400000',
    description:
      'How far back (ms) a retried request is matched by id: a reading whose id (client id or Idempotency-Key) is already stored with a timestamp up to this much earlier is not stored again',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(2592000000)
  IDEMPOTENCY_WINDOW_MS!: number;

  @Setting({ default: '10000', description: 'Most readings accepted in one POST', roles: ['api', 'all'] })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  MAX_POINTS_PER_REQUEST!: number;

  @Setting({
    default: '200000',
    description: 'Most readings awaiting the broker ack at once; beyond it the api answers 503 (backpressure)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000000)
  MAX_INFLIGHT_POINTS!: number;

  @Setting({
    default: '5242880',
    description: 'Largest request body accepted, in bytes (5 MiB)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(1073741824)
  MAX_BODY_BYTES!: number;

  @Setting({
    default: '10000',
    description:
      "Longest wait for a request's headers (ms); a client that sends them slower is answered 408 and closed",
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(600000)
  HTTP_HEADERS_TIMEOUT_MS!: number;

  @Setting({
    default: '60000',
    description: 'Longest wait for a whole request, body included (ms); a slower upload is answered 408 and closed',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3600000)
  HTTP_REQUEST_TIMEOUT_MS!: number;

  @Setting({
    default: '120000',
    description: 'A connection with no bytes in either direction for this long is closed (ms)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3600000)
  HTTP_IDLE_TIMEOUT_MS!: number;

  @Setting({
    default: '100',
    description: '4xx request lines logged per LOG_4XX_INTERVAL_MS; the rest are counted in one summary line',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000000)
  LOG_4XX_LINES_PER_INTERVAL!: number;

  @Setting({
    default: '10000',
    description: 'Interval of LOG_4XX_LINES_PER_INTERVAL (ms)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3600000)
  LOG_4XX_INTERVAL_MS!: number;

  @Setting({
    default: '300000',
    description: 'How far in the future a reading timestamp may be (ms)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(31536000000)
  MAX_FUTURE_SKEW_MS!: number;

  @Setting({ default: '10000', description: 'Most buckets one aggregate query may return', roles: ['api', 'all'] })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  MAX_BUCKETS!: number;

  @Setting({
    default: '1000',
    description: 'Most series one GET /v2/aggregates answer may hold (after groupBy)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  MAX_SERIES_PER_QUERY!: number;

  @Setting({
    default: '100000',
    description: 'Most series x buckets one GET /v2/aggregates answer may hold',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000000)
  MAX_POINTS_PER_QUERY!: number;

  @Setting({
    default: '10000',
    description:
      'Time limit of one aggregate query (ms) once it runs (time queued for a slot is not counted), enforced on MongoDB too (maxTimeMS); beyond it 503',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(600000)
  QUERY_TIMEOUT_MS!: number;

  @Setting({
    default: '16',
    description:
      'Aggregate queries one api process runs at once; more wait in a FIFO queue (MAX_QUEUED_QUERIES, QUERY_QUEUE_WAIT_MS)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10000)
  MAX_CONCURRENT_QUERIES!: number;

  @Setting({
    default: '5000',
    description:
      'How long (ms) an aggregate query may wait, first in first out, for one of the MAX_CONCURRENT_QUERIES slots; past it 503 with Retry-After; 0 = no queue, refuse at once',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600000)
  QUERY_QUEUE_WAIT_MS!: number;

  @Setting({
    default: '100',
    description:
      'Aggregate queries one api process lets wait for a slot; one more is answered 503 with Retry-After at once (0 = no queue)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100000)
  MAX_QUEUED_QUERIES!: number;

  @Setting({
    default: 'true',
    description:
      'true: an aggregate query identical to one already running (every parameter and limit the same) joins that run and shares its answer instead of taking a slot of its own; false: every query runs on its own',
    roles: ['api', 'all'],
  })
  @Transform(toBool)
  @IsBoolean({ message: 'QUERY_COALESCE must be true or false' })
  QUERY_COALESCE!: boolean;

  @Setting({
    default: '1000000',
    description: 'Most raw readings one aggregate query may scan; more is a 400 saying what to ask instead',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000000)
  MAX_RAW_READINGS_PER_QUERY!: number;

  @Setting({
    default: '30000',
    description: 'On SIGTERM: stop taking work, flush, commit and disconnect within this time (ms), else exit anyway',
  })
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600000)
  SHUTDOWN_TIMEOUT_MS!: number;

  @Setting({ default: 'info', description: 'Log level: fatal, error, warn, info, debug, trace or silent' })
  @IsIn(LOG_LEVELS)
  LOG_LEVEL!: LogLevel;

  @retention('raw readings')
  RETENTION_RAW!: string;

  @retention('minute rollups', 2)
  RETENTION_MINUTE!: string;

  @retention('hour rollups', 2)
  RETENTION_HOUR!: string;

  @retention('day rollups')
  RETENTION_DAY!: string;

  @Setting({
    default: '1000',
    description:
      'How often the worker compacts committed flush slices into minute documents and rolls dirty hours and days up (ms)',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(600000)
  COMPACTION_INTERVAL_MS!: number;

  @Setting({
    default: '5000',
    description: 'Most slices (per partition) or dirty marks (per tier) one compaction round takes',
    roles: ['worker', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000000)
  COMPACTION_BATCH!: number;

  @Setting({
    default: 'none',
    description:
      'Testing only: stop the rollup work at this point (compaction-merged, rollup-written, rebuild-written) so a test can kill the process there',
    roles: ['worker', 'all'],
  })
  @IsIn(HALT_POINTS)
  TIERS_HALT_AT!: TiersHaltPoint;
  @Setting({
    default: '',
    description:
      'Comma-separated base URLs (http://host:port) of the workers whose /metrics and /health/ready GET /v1/pipeline ' +
      'reads beside its own; empty: this process only (role all holds the worker)',
    roles: ['api', 'all'],
  })
  @IsString()
  @Matches(/^(https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*)?$/, {
    message: 'must be empty or a comma-separated list of http(s):// base URLs',
  })
  PIPELINE_WORKER_URLS!: string;
  @Setting({
    default: 'funnel',
    description:
      'Line protocol: readings of this measurement are named by the field alone; others <measurement>.<field>',
    roles: ['api', 'all'],
  })
  @IsString()
  @Matches(/^[^\s]*$/, { message: 'must be a measurement name without spaces (or empty)' })
  INFLUX_DEFAULT_MEASUREMENT!: string;

  @Setting({
    default: 'sensor,host',
    description: 'Line protocol: tag keys tried in order for the sensorId (the one used is not kept as a tag)',
    roles: ['api', 'all'],
  })
  @IsString()
  @Matches(/^[^\s,]+(,[^\s,]+)*$/, { message: 'must be a comma-separated list of tag keys' })
  INFLUX_SENSOR_TAGS!: string;

  @Setting({
    default: 'sensor.id,host.name,service.instance.id,service.name',
    description: 'OTLP: attributes tried in order for the sensorId, on the data point first, then on the resource',
    roles: ['api', 'all'],
  })
  @IsString()
  @Matches(/^[^\s,]+(,[^\s,]+)*$/, { message: 'must be a comma-separated list of attribute keys' })
  OTLP_SENSOR_ATTRIBUTES!: string;
  // --- Security (issue 13): tokens, the metrics endpoint, rate limits. ---
  @Setting({
    default: 'on',
    description:
      'on: every API route needs a token (Authorization: Bearer or Token); off: no checks, for a closed network only (warned about at every start)',
  })
  @IsIn(['on', 'off'])
  AUTH!: 'on' | 'off';

  @Setting({
    default: '',
    description:
      'When set and no usable admin token exists, an admin token with this value is stored at startup (16-512 printable ASCII characters; never logged)',
    secret: true,
  })
  @Matches(/^([\x21-\x7e]{16,512})?$/, { message: 'must be empty or 16-512 printable ASCII characters' })
  FUNNEL_ADMIN_TOKEN!: string;

  @Setting({
    default: '5000',
    description:
      'How long (ms) a token lookup is cached: a revoked or expired token stops working on every process within this time',
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300000)
  AUTH_CACHE_TTL_MS!: number;

  @Setting({
    default: '600000',
    description:
      'While MongoDB cannot answer, a token seen within this time (ms) keeps its last known answer, so ingest goes on; 0 = refuse (503) at once',
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86400000)
  AUTH_STALE_MS!: number;

  @Setting({
    default: 'off',
    description: 'on: GET /metrics needs a token with the read scope (Prometheus sends bearer tokens); off: open',
  })
  @IsIn(['on', 'off'])
  METRICS_AUTH!: 'on' | 'off';
  @Setting({
    default: '0',
    description:
      'Requests per second one token (or, without a token, one client address) may make on the API routes, on average; 0 = no limit. Past it: 429 with Retry-After',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000000)
  RATE_LIMIT_PER_SECOND!: number;

  @Setting({
    default: '0',
    description:
      'Requests one token or address may make at once above RATE_LIMIT_PER_SECOND: the limit is a window of RATE_LIMIT_BURST requests per RATE_LIMIT_BURST/RATE_LIMIT_PER_SECOND seconds (0 = one second of the rate)',
    roles: ['api', 'all'],
  })
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100000000)
  RATE_LIMIT_BURST!: number;
  @Setting({
    default: '',
    description:
      'PEM certificate (chain) file: with TLS_KEY_FILE, the HTTP server of either role speaks HTTPS only; both are read again on SIGHUP',
  })
  @IsString()
  TLS_CERT_FILE!: string;

  @Setting({ default: '', description: 'PEM private key file of TLS_CERT_FILE (set both or neither)' })
  @IsString()
  TLS_KEY_FILE!: string;
  @Setting({
    default: '',
    description:
      'Kafka SASL mechanism: plain, scram-sha-256 or scram-sha-512 (empty = no SASL); needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
  })
  @IsIn(['', 'plain', 'scram-sha-256', 'scram-sha-512'])
  KAFKA_SASL_MECHANISM!: '' | 'plain' | 'scram-sha-256' | 'scram-sha-512';

  @Setting({ default: '', description: 'Kafka SASL user name' })
  @IsString()
  KAFKA_SASL_USERNAME!: string;

  @Setting({ default: '', description: 'Kafka SASL password (never logged)', secret: true })
  @IsString()
  KAFKA_SASL_PASSWORD!: string;

  @Setting({ default: 'off', description: 'on: connect to the brokers over TLS (SSL or SASL_SSL listeners)' })
  @IsIn(['on', 'off'])
  KAFKA_SSL!: 'on' | 'off';

  @Setting({
    default: '',
    description: "PEM file of the CA that signed the brokers' certificates, with KAFKA_SSL=on (empty = the system CAs)",
  })
  @IsString()
  KAFKA_SSL_CA_FILE!: string;
}
