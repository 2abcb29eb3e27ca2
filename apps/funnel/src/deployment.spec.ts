// Static checks of docker-compose.yml, docker/Dockerfile, the Prometheus config and the Grafana dashboard:
// no Docker engine runs here, so what can be checked without one is checked against the code. The compose file is
// read as compose reads it: YAML first, then `${VAR}` interpolation of every value (compose-interpolation.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

import { listSettings } from '@funnel/config';

import { interpolate, MissingVariable } from './compose-interpolation.testing.js';
import { roleSeriesNames } from './roles.testing.js';

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  ports?: string[];
  container_name?: string;
  volumes?: string[];
  command?: string[];
};

const root = path.resolve('.');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };
/** The secrets compose needs from the shell (or `.env`), with values the checks look for. */
const SECRETS = {
  MONGO_ROOT_PASSWORD: 'mongo-root-pw-4f2a',
  FUNNEL_ADMIN_TOKEN: 'funnel-admin-token-9c1e7b',
  GRAFANA_ADMIN_PASSWORD: 'grafana-pw-77d0',
};
const rawCompose = parse(read('docker-compose.yml'), { merge: true }) as unknown;
const compose = interpolate(rawCompose, SECRETS) as Compose;
const services = compose.services;
const dockerfile = read('docker/Dockerfile');
const packageJson = JSON.parse(read('package.json')) as { version: string; scripts: Record<string, string> };
const ENTRY = 'dist/apps/funnel/src/main.js';
const SETTINGS = new Set(listSettings().map((s) => s.name));
const CORE = ['kafka', 'mongodb'];
const FUNNEL = ['api', 'worker'];

/** `name:tag` split; the tag is what pins the image. */
function tagOf(image: string): string {
  const at = image.lastIndexOf(':');
  return at > image.lastIndexOf('/') ? image.slice(at + 1) : '';
}

/** The final stage of the Dockerfile: everything after its last FROM. */
function finalStage(): string {
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

describe('docker-compose.yml', () => {
  it.each(Object.keys(services))('pins the image of %s to an exact version', (name) => {
    const image = services[name].image ?? '';
    const tag = tagOf(image);
    expect({ name, image, latest: tag === 'latest' }).toEqual({ name, image, latest: false });
    expect(tag).toMatch(/^v?\d+\.\d+\.\d+/);
  });

  it('tags the Funnel image with the package version, and builds it from docker/Dockerfile', () => {
    expect(services.api.image).toBe(`funnel:${packageJson.version}`);
    expect(services.api.build).toEqual({ context: '.', dockerfile: 'docker/Dockerfile' });
    for (const name of ['worker', 'loadtest']) expect(services[name].image).toBe(services.api.image);
  });

  it('starts the core services (Kafka in KRaft mode, MongoDB 8) without a profile, each with a healthcheck and a named volume', () => {
    const always = Object.keys(services).filter((name) => !services[name].profiles);
    expect(always.sort()).toEqual(CORE.sort());
    expect(services.kafka.image).toMatch(/^apache\/kafka:\d/);
    expect(services.kafka.environment?.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(JSON.stringify(services.kafka)).not.toMatch(/zookeeper/i);
    expect(services.mongodb.image).toMatch(/^mongo:8\.\d+\.\d+$/);
    for (const name of CORE) {
      expect(services[name].healthcheck?.test?.length).toBeGreaterThan(0);
      const named = (services[name].volumes ?? []).map((v) => v.split(':')[0]).filter((v) => v in compose.volumes);
      expect({ name, named: named.length }).toEqual({ name, named: 1 });
    }
  });

  it.each(FUNNEL)('profile kafka runs %s from the same image after Kafka and MongoDB are healthy', (name) => {
    const service = services[name];
    expect(service.profiles).toContain('kafka');
    expect(service.environment?.FUNNEL_ROLE).toBe(name);
    expect(service.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      mongodb: { condition: 'service_healthy' },
    });
  });

  // NODE_OPTIONS is Node's, not Funnel's: the worker's V8 old-space cap (README, Worker memory).
  it.each(FUNNEL)('sets only environment variables the config schema knows on %s (and NODE_OPTIONS)', (name) => {
    const unknown = Object.keys(services[name].environment ?? {}).filter(
      (key) => !SETTINGS.has(key) && key !== 'NODE_OPTIONS',
    );
    expect(unknown).toEqual([]);
  });

  it('caps the worker heap as the README says', () => {
    expect(services.worker.environment?.NODE_OPTIONS).toBe('--max-old-space-size=192');
  });

  it('points api and worker at the compose Kafka and MongoDB services', () => {
    for (const name of FUNNEL) {
      expect(services[name].environment?.KAFKA_BROKERS).toBe('kafka:9092');
      expect(String(services[name].environment?.MONGODB_URI)).toMatch(/^mongodb:\/\/[^@/]+@mongodb:27017\//);
    }
  });

  it('keeps the worker scalable with --scale: no container name, no published host port', () => {
    expect(services.worker.container_name).toBeUndefined();
    expect(services.worker.ports).toBeUndefined();
  });

  it('profile loadtest runs the load generator from the same image against the api', () => {
    const loadtest = services.loadtest;
    expect(loadtest.profiles).toEqual(['loadtest']);
    expect(loadtest.command).toEqual(['node', 'dist/apps/loadtest/src/main.js']);
    expect(loadtest.environment?.LOADTEST_TARGET).toBe(`http://api:${services.api.environment?.PORT}`);
    expect(Object.keys(loadtest.environment ?? {}).every((key) => key.startsWith('LOADTEST_'))).toBe(true);
    // What it depends on is in its profile too, so `--profile loadtest` alone starts a working stack.
    for (const dependency of Object.keys(loadtest.depends_on ?? {})) {
      const profiles = services[dependency].profiles;
      expect({ dependency, started: profiles === undefined || profiles.includes('loadtest') }).toEqual({
        dependency,
        started: true,
      });
    }
  });

  it('profile monitoring adds Prometheus and Grafana, with healthchecks', () => {
    expect(services.prometheus.profiles).toEqual(['monitoring']);
    expect(services.grafana.profiles).toEqual(['monitoring']);
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:v\d/);
    expect(services.grafana.image).toMatch(/^grafana\/grafana:\d/);
    for (const name of ['prometheus', 'grafana']) expect(services[name].healthcheck?.test?.length).toBeGreaterThan(0);
  });

  it('gives every long-running service a healthcheck (Funnel services get the one in the image)', () => {
    for (const [name, service] of Object.entries(services)) {
      const own = service.healthcheck && !service.healthcheck.disable;
      const fromImage = service.image?.startsWith('funnel:') && !service.healthcheck?.disable;
      expect({ name, healthcheck: Boolean(own || fromImage || name === 'loadtest') }).toEqual({
        name,
        healthcheck: true,
      });
    }
  });
});

describe('docker-compose.yml: nothing reachable without credentials (issue 13)', () => {
  const env = (name: string) => services[name].environment ?? {};
  const override = interpolate(parse(read('docker/compose.host-ports.yml')) as unknown, SECRETS) as Compose;

  it.each(Object.keys(SECRETS))('refuses to start without %s (a ${VAR:?} reference)', (name) => {
    const without: Record<string, string> = { ...SECRETS };
    delete without[name];
    expect(() => interpolate(rawCompose, without)).toThrow(new MissingVariable(name));
    expect(() => interpolate(rawCompose, { ...without, [name]: '' })).toThrow(new MissingVariable(name));
  });

  it('makes a MongoDB root user from the environment, and Funnel connects as it', () => {
    expect(env('mongodb')).toMatchObject({
      MONGO_INITDB_ROOT_USERNAME: 'funnel',
      MONGO_INITDB_ROOT_PASSWORD: SECRETS.MONGO_ROOT_PASSWORD,
    });
    const uris = [...FUNNEL.map((name) => env(name).MONGODB_URI), env('loadtest').LOADTEST_MONGODB_URI];
    for (const uri of uris.map((u) => new URL(String(u)))) {
      expect({
        user: uri.username,
        password: uri.password,
        host: uri.host,
        authSource: uri.searchParams.get('authSource'),
      }).toEqual({ user: 'funnel', password: SECRETS.MONGO_ROOT_PASSWORD, host: 'mongodb:27017', authSource: 'admin' });
    }
  });

  it('publishes no Kafka or MongoDB port on the host; an override publishes them on loopback only', () => {
    for (const name of CORE) expect({ name, ports: services[name].ports }).toEqual({ name, ports: undefined });
    expect(Object.keys(override.services).sort()).toEqual(CORE.sort());
    const published = Object.values(override.services).flatMap((s) => s.ports ?? []);
    expect(published.sort()).toEqual(['127.0.0.1:27017:27017', '127.0.0.1:9094:9094']);
    // The host listener the override publishes is the one Kafka advertises to host clients.
    expect(String(env('kafka').KAFKA_ADVERTISED_LISTENERS)).toContain('HOST://localhost:9094');
  });

  it('publishes on every interface only services that check credentials (api, Grafana); others on loopback', () => {
    const withAuth = new Set(['api', 'grafana']);
    for (const [name, service] of Object.entries(services)) {
      const open = (service.ports ?? []).filter((port) => !port.startsWith('127.0.0.1:'));
      expect({ name, open: withAuth.has(name) ? [] : open }).toEqual({ name, open: [] });
    }
  });

  it('runs Grafana without anonymous access or sign-up, with the admin password from the environment', () => {
    expect(env('grafana')).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'false',
      GF_USERS_ALLOW_SIGN_UP: 'false',
      GF_SECURITY_ADMIN_PASSWORD: SECRETS.GRAFANA_ADMIN_PASSWORD,
    });
    expect(env('grafana').GF_AUTH_ANONYMOUS_ORG_ROLE).toBeUndefined();
  });

  it('starts the api with FUNNEL_ADMIN_TOKEN (and the load generator sends it)', () => {
    expect(env('api').FUNNEL_ADMIN_TOKEN).toBe(SECRETS.FUNNEL_ADMIN_TOKEN);
    expect(env('loadtest').LOADTEST_TOKEN).toBe(SECRETS.FUNNEL_ADMIN_TOKEN);
    // AUTH stays at its default (on): nothing in compose turns it off.
    for (const name of FUNNEL) expect(env(name).AUTH).toBeUndefined();
  });

  it('sets HOST=0.0.0.0 explicitly on every Funnel server container (Funnel binds loopback by default)', () => {
    for (const name of FUNNEL) expect({ name, HOST: env(name).HOST }).toEqual({ name, HOST: '0.0.0.0' });
    expect(listSettings().find((s) => s.name === 'HOST')?.default).toBe('127.0.0.1');
  });
});

describe('docker/Dockerfile', () => {
  it('is multi-stage: a build stage with npm ci + npm run build, a runtime with production dependencies only', () => {
    expect((dockerfile.match(/^FROM /gm) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(finalStage()).not.toMatch(/npm run build/);
  });

  it('pins the Node base image to an exact version', () => {
    const image = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1] ?? '';
    expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z0-9-]+(@sha256:[0-9a-f]{64})?$/);
    expect(dockerfile.match(/^FROM (\S+)/gm)?.every((line) => line.startsWith('FROM ${NODE_IMAGE}'))).toBe(true);
  });

  it('runs as a non-root user', () => {
    const user = /^USER (\S+)$/m.exec(finalStage())?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
  });

  it('has a HEALTHCHECK on /health/live', () => {
    expect(finalStage()).toMatch(/^HEALTHCHECK [\s\S]*\/health\/live/m);
  });

  it('runs the documented entry point, and the role comes from FUNNEL_ROLE', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(finalStage())?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ENTRY]);
    expect(packageJson.scripts.start).toBe(`node ${ENTRY}`);
    expect(read('README.md')).toContain(`node ${ENTRY}`);
    expect(readFileSync(path.join(root, 'apps/funnel/src/main.ts'), 'utf8')).toContain('FUNNEL_ROLE');
    expect(finalStage()).toMatch(/^ENV .*\bFUNNEL_ROLE=/m);
  });
});

describe('Prometheus and Grafana', () => {
  const prometheus = parse(read('docker/prometheus/prometheus.yml')) as {
    scrape_configs: {
      job_name: string;
      metrics_path?: string;
      static_configs?: { targets: string[] }[];
      dns_sd_configs?: { names: string[]; type: string; port: number }[];
    }[];
  };
  const job = (name: string) => prometheus.scrape_configs.find((j) => j.job_name === name)!;

  it('scrapes the api service on its PORT', () => {
    const api = job('funnel-api');
    expect(api.metrics_path ?? '/metrics').toBe('/metrics');
    expect(api.static_configs?.flatMap((c) => c.targets)).toEqual([`api:${services.api.environment?.PORT}`]);
  });

  it('finds every worker replica through DNS on its WORKER_PORT', () => {
    const worker = job('funnel-worker');
    expect(worker.metrics_path ?? '/metrics').toBe('/metrics');
    expect(worker.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ['worker'], type: 'A', port: Number(services.worker.environment?.WORKER_PORT) }),
    ]);
  });

  const dashboard = JSON.parse(read('docker/grafana/dashboards/funnel.json')) as {
    panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('dashboard queries name only metrics the app registers', () => {
    const registered = new Set(roleSeriesNames('all'));
    const named = new Set(exprs.flatMap((expr) => expr.match(/\b(funnel|process|nodejs)_[a-z0-9_]+/g) ?? []));
    expect(named.size).toBeGreaterThan(10);
    expect([...named].filter((name) => !registered.has(name))).toEqual([]);
  });

  it('dashboard shows ingest rate, lag, flush latency, end-to-end latency and errors', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const topic of ['ingest rate', 'lag', 'flush latency', 'end-to-end latency', 'errors']) {
      expect(titles.some((title) => title.includes(topic))).toBe(true);
    }
  });

  it('dashboard uses the provisioned datasource, and Grafana mounts both provisioning and dashboards', () => {
    const datasources = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    const uid = datasources.datasources[0].uid;
    expect(datasources.datasources[0].url).toBe('http://prometheus:9090');
    expect(dashboard.panels.every((p) => p.datasource.uid === uid)).toBe(true);
    const providers = parse(read('docker/grafana/provisioning/dashboards/funnel.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mounts = services.grafana.volumes ?? [];
    expect(mounts).toContain(`./docker/grafana/dashboards:${providers.providers[0].options.path}:ro`);
    expect(mounts).toContain('./docker/grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(services.prometheus.volumes).toContain(
      './docker/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });
});
