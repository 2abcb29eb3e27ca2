/** Reads /metrics and /health/ready of this api process and of every worker in PIPELINE_WORKER_URLS. */
import { Injectable } from '@nestjs/common';

import { FunnelConfig } from '@funnel/config';
import { Scrape } from '@funnel/dev-infra';

import { summarizeProcess, type ProcessStatus } from './pipeline-status.js';

/** A process that does not answer within this long is reported unreachable, not waited for. */
const PROBE_TIMEOUT_MS = 2_000;

@Injectable()
export class PipelineStatusService {
  constructor(private readonly config: FunnelConfig) {}

  /** This process first (over loopback, as a scraper would see it), then the workers in the order configured. */
  urls(): string[] {
    const host = ['0.0.0.0', '::'].includes(this.config.HOST) ? '127.0.0.1' : this.config.HOST;
    const self = `http://${host.includes(':') ? `[${host}]` : host}:${this.config.PORT}`;
    const workers = this.config.PIPELINE_WORKER_URLS.split(',')
      .map((url) => url.trim().replace(/\/+$/, ''))
      .filter((url) => url !== '');
    return [self, ...workers];
  }

  async status(): Promise<{ sampledAt: string; processes: ProcessStatus[] }> {
    const sampledAt = new Date().toISOString();
    const processes = await Promise.all(this.urls().map((url) => this.probe(url)));
    return { sampledAt, processes };
  }

  private async probe(url: string): Promise<ProcessStatus> {
    const [scrape, health] = await Promise.all([
      fetch(`${url}/metrics`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
        .then(async (res) => {
          if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`);
          return Scrape.parse(await res.text());
        })
        .catch((error: Error) => error),
      fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) })
        .then(async (res) => {
          // Terminus answers 503 with the same body when a check is down.
          const body = (await res.json()) as { status?: string; details?: Record<string, { status: string }> };
          return { status: res.status === 200 ? ('ok' as const) : ('error' as const), checks: body.details ?? {} };
        })
        .catch(() => ({ status: 'unreachable' as const, checks: {} })),
    ]);
    return scrape instanceof Error
      ? summarizeProcess(url, undefined, health, scrape.message)
      : summarizeProcess(url, scrape, health);
  }
}
