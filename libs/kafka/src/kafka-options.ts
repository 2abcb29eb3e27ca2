// The kafkajs client settings shared by every Funnel producer, consumer and admin.
import { readFileSync } from 'node:fs';

import { Logger } from '@nestjs/common';
import { logLevel, type KafkaConfig, type logCreator, type SASLOptions } from 'kafkajs';

import type { FunnelConfig } from '@funnel/config';

/** Bounded so a request fails with 503 within seconds instead of hanging while the broker is away. */
export const KAFKA_RETRY = { initialRetryTime: 200, maxRetryTime: 2000, retries: 3 };

/** Connection settings shared by the api's producer and the worker's consumer. */
export function kafkaClientConfig(config: FunnelConfig, clientSuffix: string): KafkaConfig {
  return {
    clientId: `${config.KAFKA_CLIENT_ID}-${clientSuffix}`,
    brokers: config.KAFKA_BROKERS.split(','),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: KAFKA_RETRY,
    logLevel: logLevel.WARN,
    logCreator: nestLogCreator,
    ...kafkaSecurity(config),
  };
}

/** KAFKA_SSL (with KAFKA_SSL_CA_FILE) and KAFKA_SASL_* as kafkajs' `ssl` and `sasl` options. */
export function kafkaSecurity(
  config: Pick<
    FunnelConfig,
    'KAFKA_SSL' | 'KAFKA_SSL_CA_FILE' | 'KAFKA_SASL_MECHANISM' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD'
  >,
): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const security: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (config.KAFKA_SSL === 'on') {
    security.ssl = config.KAFKA_SSL_CA_FILE ? { ca: [readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8')] } : true;
  }
  if (config.KAFKA_SASL_MECHANISM) {
    if (!config.KAFKA_SASL_USERNAME || !config.KAFKA_SASL_PASSWORD) {
      throw new Error(
        `KAFKA_SASL_MECHANISM=${config.KAFKA_SASL_MECHANISM} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`,
      );
    }
    security.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME,
      password: config.KAFKA_SASL_PASSWORD,
    } as SASLOptions;
  }
  return security;
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
