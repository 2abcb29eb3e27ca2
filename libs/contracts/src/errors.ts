/** A dependency (Kafka or MongoDB) could not do its part; the caller should retry later (HTTP 503). */
export class DependencyUnavailable extends Error {
  constructor(
    readonly dependency: 'kafka' | 'mongodb',
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'DependencyUnavailable';
  }
}
