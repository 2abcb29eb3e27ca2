// One Kafka admin connection opened on first use, dropped after a failure so that the next call reconnects.
import { Kafka, type Admin, type KafkaConfig } from 'kafkajs';

import { withTimeout } from './group-lag.js';

/** An admin client for occasional calls (lag samples): connects lazily, within `timeoutMs`, and again after a failure. */
export class LazyAdmin {
  private readonly kafka: Kafka;
  private admin?: Promise<Admin>;

  constructor(
    config: KafkaConfig,
    private readonly timeoutMs: number,
  ) {
    this.kafka = new Kafka(config);
  }

  /** Runs `call` on the connected admin within the timeout; on failure the connection is dropped and it rethrows. */
  async run<T>(call: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(
        this.connect().then((admin) => call(admin)),
        this.timeoutMs,
      );
    } catch (error) {
      const admin = this.admin;
      this.admin = undefined;
      void admin?.then((a) => a.disconnect()).catch(() => undefined);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    const admin = await this.admin?.catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }

  private connect(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.admin;
  }
}
