// Starts what the end-to-end tests need and is not running yet (Kafka broker, MongoDB server);
// global-teardown.mjs stops exactly what this started. Uses the build (npm test builds first).
// Jest loads global setup outside its module mapper, so this takes the built lib rather than the alias.
// eslint-disable-next-line no-restricted-imports
import { ensureInfra } from '../../dist/libs/dev-infra/src/index.js';

export default async function globalSetup() {
  const infra = await ensureInfra({ log: (line) => process.stderr.write(`[infra] ${line}\n`) });
  process.env.KAFKA_BROKERS = infra.kafka.brokers;
  process.env.MONGODB_URI = infra.mongo.uri;
  process.env.FUNNEL_TEST_MONGO_KIND = infra.mongo.kind;
}
