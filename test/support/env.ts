/** Where the e2e tests find the broker and MongoDB, the settings each test process gets, and their defaults. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { listSettings } from '@funnel/config';

/** Broker and MongoDB server the global setup found or started. */
export function infra(): { brokers: string; mongoUri: string } {
  const brokers = process.env.KAFKA_BROKERS;
  const mongoUri = process.env.MONGODB_URI;
  if (!brokers || !mongoUri) {
    throw new Error('KAFKA_BROKERS / MONGODB_URI not set: run the e2e tests through `npm test` (jest global setup)');
  }
  return { brokers, mongoUri };
}

/** The same server as MONGODB_URI, another database. */
export function mongoUriFor(database: string): string {
  const url = new URL(infra().mongoUri);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Topic, consumer group and database of their own, so test runs never see each other's data. */
export function isolatedEnv(tag: string): Record<string, string> {
  const id = `${tag}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  return {
    KAFKA_BROKERS: infra().brokers,
    KAFKA_TOPIC: `funnel.e2e.${id}`,
    KAFKA_GROUP_ID: `funnel-e2e-${id}`,
    MONGODB_URI: mongoUriFor(`funnel_e2e_${id.replace(/-/g, '_')}`),
    FLUSH_INTERVAL_MS: '300',
    FLUSH_MAX_POINTS: '1000',
  };
}

/** The documented default of a numeric setting, as the config lib declares it (never a copy in a test). */
export function settingDefault(name: string): number {
  const setting = listSettings().find((s) => s.name === name);
  const value = Number(setting?.default);
  if (!setting || !Number.isFinite(value)) throw new Error(`no numeric default declared for setting ${name}`);
  return value;
}

/** The version package.json gives Funnel (what funnel_build_info reports). */
export const FUNNEL_VERSION: string = (
  JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')) as { version: string }
).version;

/** The admin token every test api process gets (FUNNEL_ADMIN_TOKEN): fixed, so any helper can send it. */
export const TEST_ADMIN_TOKEN = 'funnel-e2e-admin-token-0123456789';

/** The Authorization header with TEST_ADMIN_TOKEN, for requests a test makes as the operator. */
export const ADMIN_AUTH: Readonly<Record<string, string>> = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** `headers` with the admin token added unless they carry an Authorization header of their own. */
export function withAdminAuth(headers: Record<string, string> = {}): Record<string, string> {
  return Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')
    ? headers
    : { ...ADMIN_AUTH, ...headers };
}
