// Parses the load tool's flags and LOADTEST_* variables into one validated options object.
import yargs from 'yargs';

/** Everything one load test run is told, from flags or LOADTEST_* environment variables. */
export interface LoadtestOptions {
  target: string;
  /** Sent as `Authorization: Bearer <token>` on every request (needs the write and read scopes: admin). */
  token?: string;
  duration: number;
  /** Seconds of producer load before the measured duration, left out of the ingest rate and latency. */
  warmup: number;
  connections: number;
  sensors: number;
  metricsPerSensor: number;
  batch: number;
  /** Readings per second for all producers together; 0 = as fast as the target answers. */
  rate: number;
  queryUsers: number;
  /** Aggregate queries per second for all query users together; 0 = as fast as the target answers. */
  queryRate: number;
  /** One freshness marker every this many ms; 0 = no freshness sampling. */
  freshnessInterval: number;
  freshnessTimeout: number;
  /** How often the query looking for pending markers runs. */
  freshnessPoll: number;
  reconcile: boolean;
  settleTimeout: number;
  mongodbUri?: string;
  mongodbCollection: string;
  runId: string;
  json?: string;
  slo?: string;
  progressInterval: number;
  timeout: number;
}

const USAGE = `$0 [options]

Drives a Funnel api with concurrent producers (POST /v1/points) and aggregate-query users
(GET /v1/aggregates), samples freshness with marker readings, then reconciles readings accepted against
readings stored. Every option can also be given as an environment variable LOADTEST_<OPTION>
(for example LOADTEST_TARGET, LOADTEST_QUERY_USERS).`;

/** Parses argv (without the node and script entries); exits with usage on a bad flag. */
export function parseOptions(argv: string[], defaultRunId: string): LoadtestOptions {
  const args = yargs(argv)
    .scriptName('loadtest')
    .usage(USAGE)
    .env('LOADTEST')
    // A flag given twice takes the last value, as in most CLIs (not an array).
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .strict()
    .options({
      target: { type: 'string', default: 'http://127.0.0.1:3000', describe: 'Base URL of the Funnel api' },
      token: {
        type: 'string',
        describe:
          'API token sent as Authorization: Bearer (admin, or read+write; prefer LOADTEST_TOKEN: argv is visible)',
      },
      duration: { type: 'number', default: 10, describe: 'Seconds of load measured' },
      warmup: {
        type: 'number',
        default: 0,
        describe: 'Seconds of load before the measured duration, left out of the ingest rate and latency',
      },
      connections: { type: 'number', default: 10, describe: 'Concurrent producer connections' },
      sensors: { type: 'number', default: 100, describe: 'Distinct simulated sensors' },
      'metrics-per-sensor': { type: 'number', default: 2, describe: 'Metrics each sensor reports' },
      batch: { type: 'number', default: 100, describe: 'Readings per POST request' },
      rate: { type: 'number', default: 0, describe: 'Readings/s for all producers together (0 = max throughput)' },
      'query-users': { type: 'number', default: 2, describe: 'Concurrent aggregate-query users (0 = none)' },
      'query-rate': { type: 'number', default: 0, describe: 'Aggregate queries/s for all users together (0 = max)' },
      'freshness-interval': {
        type: 'number',
        default: 250,
        describe: 'Post one freshness marker every N ms and poll until it is visible (0 = off)',
      },
      'freshness-poll': {
        type: 'number',
        default: 20,
        describe:
          'Query for pending markers every N ms (the resolution of freshness; each poll is one aggregate query)',
      },
      'freshness-timeout': {
        type: 'number',
        default: 30_000,
        describe: 'A marker not visible after this many ms counts as not visible',
      },
      reconcile: {
        type: 'boolean',
        default: true,
        describe: 'After the load, wait for stored == accepted (--no-reconcile skips it)',
      },
      'settle-timeout': {
        type: 'number',
        default: 60_000,
        describe: 'How long reconciliation waits (ms) for stored to reach accepted',
      },
      'mongodb-uri': {
        type: 'string',
        describe: 'Count stored readings directly in this MongoDB (database in the path) instead of via the api',
      },
      'mongodb-collection': { type: 'string', default: 'points', describe: "Funnel's MONGODB_COLLECTION" },
      'run-id': {
        type: 'string',
        default: defaultRunId,
        describe: 'Prefix of the sensor ids of this run ([A-Za-z0-9_-]), so its readings can be counted apart',
      },
      json: { type: 'string', describe: 'Also write the report as JSON to this file' },
      slo: {
        type: 'string',
        describe: 'Thresholds that make the exit code 1 when missed, e.g. "p99<50ms,errors=0,freshness_p99<2s"',
      },
      'progress-interval': {
        type: 'number',
        default: 5000,
        describe: 'Without a TTY on stderr: a progress line every N ms (0 = none)',
      },
      timeout: { type: 'number', default: 30, describe: 'Request timeout (s)' },
    })
    .check((a) => {
      const positive = [
        'duration',
        'connections',
        'sensors',
        'metrics-per-sensor',
        'batch',
        'timeout',
        'freshness-poll',
      ] as const;
      for (const name of positive) {
        if (!Number.isFinite(a[name]) || a[name] <= 0) throw new Error(`--${name} must be a positive number`);
      }
      const nonNegative = [
        'warmup',
        'rate',
        'query-users',
        'query-rate',
        'freshness-interval',
        'progress-interval',
      ] as const;
      for (const name of nonNegative) {
        if (!Number.isFinite(a[name]) || a[name] < 0) throw new Error(`--${name} must be 0 or more`);
      }
      if (!/^[A-Za-z0-9_-]{1,40}$/.test(a['run-id'])) throw new Error('--run-id must be 1-40 of [A-Za-z0-9_-]');
      if (!/^https?:\/\/[^/]+\/?$/.test(a.target)) throw new Error('--target must be http(s)://host:port');
      return true;
    })
    .help()
    .version(false)
    .wrap(110)
    .parseSync();

  return {
    target: args.target.replace(/\/$/, ''),
    token: args.token,
    duration: args.duration,
    warmup: args.warmup,
    connections: Math.round(args.connections),
    sensors: Math.round(args.sensors),
    metricsPerSensor: Math.round(args['metrics-per-sensor']),
    batch: Math.round(args.batch),
    rate: args.rate,
    queryUsers: Math.round(args['query-users']),
    queryRate: args['query-rate'],
    freshnessInterval: args['freshness-interval'],
    freshnessTimeout: args['freshness-timeout'],
    freshnessPoll: args['freshness-poll'],
    reconcile: args.reconcile,
    settleTimeout: args['settle-timeout'],
    mongodbUri: args['mongodb-uri'],
    mongodbCollection: args['mongodb-collection'],
    runId: args['run-id'],
    json: args.json,
    slo: args.slo,
    progressInterval: args['progress-interval'],
    timeout: args.timeout,
  };
}
