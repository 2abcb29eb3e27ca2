// Starts what the end-to-end tests need and is not running yet (Kafka broker, MongoDB server);
// global-teardown.mjs stops exactly what this started.
import { ensureInfra } from '../../docker/local/infra.mjs';

export default async function globalSetup() {
  const infra = await ensureInfra({ log: (line) => process.stderr.write(`[infra] ${line}\n`) });
  process.env.KAFKA_BROKERS = infra.kafka.brokers;
  process.env.MONGODB_URI = infra.mongo.uri;
  process.env.FUNNEL_TEST_MONGO_KIND = infra.mongo.kind;
}
