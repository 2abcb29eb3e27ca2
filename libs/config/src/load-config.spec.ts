// Unit tests of loading settings: defaults, ranges, enums and the error that names every bad setting.
import { describe, expect, it } from '@jest/globals';

import { parseRetentionMs } from './funnel-config.js';
import { ConfigError, loadConfig } from './load-config.js';
import { listSettings } from './setting.decorator.js';

type Env = Record<string, string | undefined>;

/** The documented range of every integer setting. */
const INTEGER_RANGES: Record<string, [min: number, max: number]> = {
  PORT: [1, 65535],
  WORKER_PORT: [1, 65535],
  COMPACTION_INTERVAL_MS: [50, 600000],
  COMPACTION_BATCH: [1, 1000000],
  KAFKA_TOPIC_PARTITIONS: [1, 1000],
  KAFKA_REPLICATION_FACTOR: [0, 100],
  KAFKA_MIN_INSYNC_REPLICAS: [0, 100],
  KAFKA_POINTS_PER_RECORD: [1, 10000],
  KAFKA_LINGER_MS: [0, 1000],
  API_HEAP_GROWTH_PERCENT: [0, 1000],
  FLUSH_INTERVAL_MS: [10, 600000],
  FLUSH_MAX_POINTS: [1, 1000000],
  FLUSH_WRITE_STREAMS: [1, 64],
  BUFFER_HIGH_WATER: [1, 10000000],
  CONSUMER_STALL_MS: [1000, 3600000],
  DEDUP_SETTLE_MS: [0, 600000],
  IDEMPOTENCY_WINDOW_MS: [0, 2592000000],
  MAX_INFLIGHT_POINTS: [1, 100000000],
  SHUTDOWN_TIMEOUT_MS: [1000, 600000],
  MAX_POINTS_PER_REQUEST: [1, 1000000],
  MAX_BODY_BYTES: [1024, 1073741824],
  HTTP_HEADERS_TIMEOUT_MS: [100, 600000],
  HTTP_REQUEST_TIMEOUT_MS: [100, 3600000],
  HTTP_IDLE_TIMEOUT_MS: [100, 3600000],
  LOG_4XX_LINES_PER_INTERVAL: [0, 1000000],
  LOG_4XX_INTERVAL_MS: [100, 3600000],
  MAX_FUTURE_SKEW_MS: [0, 31536000000],
  MAX_BUCKETS: [1, 1000000],
  MAX_SERIES_PER_QUERY: [1, 1000000],
  MAX_POINTS_PER_QUERY: [1, 100000000],
  QUERY_TIMEOUT_MS: [10, 600000],
  MAX_CONCURRENT_QUERIES: [1, 10000],
  QUERY_QUEUE_WAIT_MS: [0, 600000],
  MAX_QUEUED_QUERIES: [0, 100000],
  MAX_RAW_READINGS_PER_QUERY: [1, 1000000000],
  MONGODB_CAPACITY_DOCS: [0, 1000000000000],
  STORE_FULL_BACKLOG_RECORDS: [0, 1000000000],
  AUTH_CACHE_TTL_MS: [0, 300000],
  AUTH_STALE_MS: [0, 86400000],
  RATE_LIMIT_PER_SECOND: [0, 1000000],
  RATE_LIMIT_BURST: [0, 100000000],
};

function read(config: object, name: string): unknown {
  return (config as Record<string, unknown>)[name];
}

/** The problems of the ConfigError that loading `env` throws (fails the test if it does not throw one). */
function problemsOf(env: Env): string[] {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  return (caught as ConfigError).problems;
}

/** Asserts that `env` fails on exactly one setting, with a message naming the setting and the value given. */
function expectOnlyProblem(name: string, value: string): void {
  const problems = problemsOf({ [name]: value });
  expect(problems).toHaveLength(1);
  expect(problems[0].startsWith(`${name}=${JSON.stringify(value)}: `)).toBe(true);
  let message = '';
  try {
    loadConfig({ [name]: value });
  } catch (error) {
    message = (error as Error).message;
  }
  expect(message).toContain(name);
  expect(message).toContain(JSON.stringify(value));
}

describe('loadConfig defaults', () => {
  it('declares a string default for every setting', () => {
    const settings = listSettings();
    expect(settings.length).toBeGreaterThan(0);
    for (const s of settings)
      expect({ name: s.name, default: typeof s.default }).toEqual({ name: s.name, default: 'string' });
  });

  it('loads an empty environment: every default validates and is what the config holds', () => {
    const config = loadConfig({});
    for (const s of listSettings()) {
      const value = read(config, s.name);
      expect({ name: s.name, value: String(value) }).toEqual({ name: s.name, value: s.default });
      if (s.name in INTEGER_RANGES) expect(typeof value).toBe('number');
    }
  });

  it('accepts each default when it is given explicitly', () => {
    for (const s of listSettings()) {
      expect(String(read(loadConfig({ [s.name]: s.default }), s.name))).toBe(s.default);
    }
  });

  it('treats an empty string as not set', () => {
    const env = Object.fromEntries(listSettings().map((s) => [s.name, '']));
    expect(loadConfig(env)).toEqual(loadConfig({}));
  });

  it('ignores environment variables that are not settings', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root', FUNNEL_UNKNOWN: 'x' })).toEqual(loadConfig({}));
  });

  it('returns a frozen config', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as unknown as Record<string, unknown>).PORT = 1;
    }).toThrow(TypeError);
    expect(config.PORT).toBe(3000);
  });
});

describe('loadConfig integer settings', () => {
  it('has a documented range for exactly the integer settings', () => {
    const integers = listSettings()
      .filter((s) => /^\d+$/.test(s.default ?? ''))
      .map((s) => s.name);
    expect(integers.sort()).toEqual(Object.keys(INTEGER_RANGES).sort());
  });

  describe.each(Object.entries(INTEGER_RANGES))('%s', (name, [min, max]) => {
    it(`accepts ${min} and ${max} as numbers`, () => {
      expect(read(loadConfig({ [name]: String(min) }), name)).toBe(min);
      expect(read(loadConfig({ [name]: String(max) }), name)).toBe(max);
      const middle = Math.floor((min + max) / 2);
      expect(read(loadConfig({ [name]: String(middle) }), name)).toBe(middle);
    });

    it(`rejects ${min - 1} and ${max + 1} (out of range), naming the setting and the value`, () => {
      expectOnlyProblem(name, String(min - 1));
      expectOnlyProblem(name, String(max + 1));
    });

    it.each(['1.5', `${max}.0`, 'abc', '1e3', '0x10', '12abc', '+5', '1_000', ' ', '-', 'NaN', 'Infinity'])(
      'rejects the non-integer %j, naming the setting and the value',
      (value) => {
        expectOnlyProblem(name, value);
      },
    );
  });

  it('accepts surrounding whitespace and leading zeros around an integer', () => {
    expect(loadConfig({ PORT: ' 8080 ' }).PORT).toBe(8080);
    expect(loadConfig({ PORT: '0080' }).PORT).toBe(80);
  });
});

describe('loadConfig enum settings', () => {
  it.each(['api', 'worker', 'all'])('accepts FUNNEL_ROLE=%s', (role) => {
    expect(loadConfig({ FUNNEL_ROLE: role }).FUNNEL_ROLE).toBe(role);
  });

  it.each(['API', 'Worker', 'both', ' api', 'api,worker', 'none'])('rejects FUNNEL_ROLE=%j', (role) => {
    expectOnlyProblem('FUNNEL_ROLE', role);
  });

  it.each(['seconds', 'minutes', 'hours'])('accepts TS_GRANULARITY=%s', (granularity) => {
    expect(loadConfig({ TS_GRANULARITY: granularity }).TS_GRANULARITY).toBe(granularity);
  });

  it.each(['second', 'days', 'Seconds', 'ms', 'seconds '])('rejects TS_GRANULARITY=%j', (granularity) => {
    expectOnlyProblem('TS_GRANULARITY', granularity);
  });

  it.each([
    ['forever', 0],
    ['90d', 90 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['1m', 60_000],
    ['1.5h', 5_400_000],
  ])('accepts RETENTION_RAW=%j as %d ms', (text, expected) => {
    expect(parseRetentionMs(loadConfig({ RETENTION_RAW: text }).RETENTION_RAW)).toBe(expected);
  });

  it.each(['1d', '47h'])('rejects RETENTION_MINUTE=%j (under two days)', (text) => {
    expectOnlyProblem('RETENTION_MINUTE', text);
  });

  it.each(['0', '30s', 'never', '-1d', '90', 'd', '1 fortnight'])('rejects RETENTION_DAY=%j', (text) => {
    expectOnlyProblem('RETENTION_DAY', text);
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts LOG_LEVEL=%s', (level) => {
    expect(loadConfig({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it.each(['verbose', 'INFO', 'warning', 'log'])('rejects LOG_LEVEL=%j', (level) => {
    expectOnlyProblem('LOG_LEVEL', level);
  });

  it.each([
    ['true', true],
    ['false', false],
  ])('accepts QUERY_COALESCE=%s as a boolean', (text, expected) => {
    expect(loadConfig({ QUERY_COALESCE: text }).QUERY_COALESCE).toBe(expected);
  });

  it.each(['TRUE', 'False', 'yes', 'on', '1', '0', ' true'])('rejects QUERY_COALESCE=%j', (text) => {
    expectOnlyProblem('QUERY_COALESCE', text);
  });
});

describe('loadConfig MONGODB_WRITE_CONCERN: majority or a number of members', () => {
  it('defaults to majority', () => {
    expect(loadConfig({}).MONGODB_WRITE_CONCERN).toBe('majority');
  });

  it.each(['majority', '1', '2', '99'])('accepts %j', (w) => {
    expect(loadConfig({ MONGODB_WRITE_CONCERN: w }).MONGODB_WRITE_CONCERN).toBe(w);
  });

  it.each(['0', 'Majority', 'all', '-1', '1.5', '100', ' 1'])('rejects %j', (w) => {
    expectOnlyProblem('MONGODB_WRITE_CONCERN', w);
  });
});

describe('loadConfig KAFKA_BROKERS: comma-separated host:port', () => {
  it.each(['kafka:9092', '127.0.0.1:9092', 'a:1,b:2,c:3', 'broker-1.kafka.internal.example.com:19092,broker-2:19092'])(
    'accepts %j',
    (brokers) => {
      expect(loadConfig({ KAFKA_BROKERS: brokers }).KAFKA_BROKERS).toBe(brokers);
    },
  );

  it.each([
    'kafka', // no port
    'kafka:',
    ':9092', // no host
    'kafka:port',
    'kafka:123456', // six-digit port
    'a:1,', // trailing comma
    ',a:1',
    'a:1,,b:2',
    'a:1, b:2', // space
    'a :1',
    'a:1;b:2',
    'a:1 b:2',
    'kafka://a:1',
  ])('rejects %j with its format message', (brokers) => {
    expectOnlyProblem('KAFKA_BROKERS', brokers);
    expect(problemsOf({ KAFKA_BROKERS: brokers })[0]).toContain('host:port');
  });

  it.each(['kafka:0', 'kafka:65536', 'a:9092,b:99999'])('rejects %j: a port outside 1-65535', (brokers) => {
    expectOnlyProblem('KAFKA_BROKERS', brokers);
    expect(problemsOf({ KAFKA_BROKERS: brokers })[0]).toContain('1-65535');
  });

  it('accepts the highest port', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'kafka:65535' }).KAFKA_BROKERS).toBe('kafka:65535');
  });
});

describe('loadConfig HOST', () => {
  it.each([' ', '0.0.0.0 ', 'a b'])('rejects %j', (host) => {
    expectOnlyProblem('HOST', host);
  });
});

describe('loadConfig MONGODB_URI: mongodb:// or mongodb+srv://', () => {
  it.each([
    'mongodb://127.0.0.1:27017/funnel',
    'mongodb://a:27017,b:27017,c:27017/funnel?replicaSet=rs0',
    'mongodb+srv://user:secret@cluster0.example.net/funnel?retryWrites=true',
  ])('accepts %j', (uri) => {
    expect(loadConfig({ MONGODB_URI: uri }).MONGODB_URI).toBe(uri);
  });

  it.each([
    'http://127.0.0.1:27017/funnel',
    'mongo://127.0.0.1/funnel',
    'mongodb:/127.0.0.1/funnel',
    'mongodb://',
    'mongodb+srv://',
    'mongodb+ssl://host/db',
    '127.0.0.1:27017',
    'mongodb://host/db name',
    ' mongodb://host/db',
  ])('rejects %j with its scheme message', (uri) => {
    expectOnlyProblem('MONGODB_URI', uri);
    expect(problemsOf({ MONGODB_URI: uri })[0]).toContain('mongodb://');
  });
});

describe('loadConfig ConfigError', () => {
  it('lists every bad setting, each with its value', () => {
    const problems = problemsOf({ PORT: '0', FUNNEL_ROLE: 'both', MONGODB_URI: 'http://x', MAX_BUCKETS: '10' });
    expect(problems).toHaveLength(3);
    expect(problems.some((p) => p.startsWith('PORT="0": '))).toBe(true);
    expect(problems.some((p) => p.startsWith('FUNNEL_ROLE="both": '))).toBe(true);
    expect(problems.some((p) => p.startsWith('MONGODB_URI="http://x": '))).toBe(true);
  });
});

describe('loadConfig HOST default', () => {
  it('binds to loopback unless HOST is set, so a local run is not reachable from the network', () => {
    expect(loadConfig({}).HOST).toBe('127.0.0.1');
  });

  it('takes 0.0.0.0 when set, as the containers do', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
  });
});

describe('loadConfig secret settings', () => {
  it('never prints the value of a secret setting that fails validation, only its name', () => {
    const secret = 'short\u00e9';
    const problems = problemsOf({ FUNNEL_ADMIN_TOKEN: secret, PORT: '0' });
    expect(problems.some((p) => p.startsWith('FUNNEL_ADMIN_TOKEN=(hidden): '))).toBe(true);
    expect(problems.join('\n')).not.toContain(secret);
  });
});
