/** The simulated fleet: sensor and metric names of one run, and the request bodies producers send. */
export class Workload {
  readonly sensorIds: string[];
  readonly metrics: string[];
  /** Sensor of the freshness markers; never written by the producers. */
  readonly markerSensorId: string;
  readonly markerMetric = 'freshness';

  constructor(
    readonly runId: string,
    sensors: number,
    metricsPerSensor: number,
  ) {
    this.sensorIds = Array.from({ length: sensors }, (_, i) => `${runId}-s${i}`);
    this.metrics = Array.from({ length: metricsPerSensor }, (_, i) => `m${i}`);
    this.markerSensorId = `${runId}-marker`;
  }

  get seriesCount(): number {
    return this.sensorIds.length * this.metrics.length;
  }

  /** [sensorId, metric] of series number `n` (wraps around). */
  series(n: number): [string, string] {
    const i = n % this.seriesCount;
    return [this.sensorIds[Math.floor(i / this.metrics.length)]!, this.metrics[i % this.metrics.length]!];
  }

  /**
   * A fixed pool of JSON bodies of `batch` readings each, walking through every series in turn. Readings
   * carry no `ts` (the api stamps the time received) and no id (the api derives one per request), so a
   * body can be sent any number of times and every copy is stored. A batch of one is a bare object.
   */
  bodies(batch: number, poolSize = 64): string[] {
    let n = 0;
    let seed = 0x2545f491;
    const value = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.round(((seed / 2 ** 32) * 200 - 50) * 100) / 100;
    };
    return Array.from({ length: poolSize }, () => {
      const readings = Array.from({ length: batch }, () => {
        const [sensorId, metric] = this.series(n++);
        return { sensorId, metric, value: value() };
      });
      return JSON.stringify(batch === 1 ? readings[0] : readings);
    });
  }
}
