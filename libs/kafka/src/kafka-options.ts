// The kafkajs client settings shared by every Funnel producer, consumer and admin.
import { Logger } from '@nestjs/common';
import { logLevel, type KafkaConfig, type logCreator } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

/** Connection settings shared by the api's producer and the worker's consumer. */
export function kafkaClientConfig(config: FunnelConfig, clientSuffix: string): KafkaConfig {
  return {
    clientId: `${config.KAFKA_CLIENT_ID}-${clientSuffix}`,
    brokers: config.KAFKA_BROKERS.split(','),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    // Bounded so a request fails with 503 within seconds instead of hanging while the broker is away.
    retry: { initialRetryTime: 200, maxRetryTime: 2000, retries: 3 },
    logLevel: logLevel.WARN,
    logCreator: nestLogCreator,
  };
}

/** Routes kafkajs' own log lines through the application logger instead of raw JSON on stdout. */
const nestLogCreator: logCreator = () => {
  const logger = new Logger('kafkajs');
  return ({ level, log }) => {
    const line = `${log.message}${log.broker ? ` (broker ${String(log.broker)})` : ''}${log.error ? `: ${String(log.error)}` : ''}`;
    if (level <= logLevel.ERROR) {
      logger.error(line);
    } else if (level === logLevel.WARN) {
      logger.warn(line);
    } else {
      logger.debug(line);
    }
  };
};
