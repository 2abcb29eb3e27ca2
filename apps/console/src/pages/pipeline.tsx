/** Pipeline: what each Funnel process reports (through GET /v1/pipeline): rates, lag, latencies, buffer, health. */
import { useRef } from 'preact/hooks';

import { pipelineStatus, type PipelineStatus, type ProcessStatus } from '../api.js';
import { formatNumber, formatSeconds } from '../format.js';
import { ErrorBanner, usePoll } from '../status.js';

const EVERY_MS = 3_000;

/** Readings per second between the last two answers, per process url. */
function useRates(status: PipelineStatus | undefined) {
  const previous = useRef<PipelineStatus | undefined>(undefined);
  const rates = useRef(new Map<string, { accepted: number; written: number }>());
  if (status && previous.current?.sampledAt !== status.sampledAt) {
    const before = previous.current;
    if (before) {
      const dt = (Date.parse(status.sampledAt) - Date.parse(before.sampledAt)) / 1000;
      for (const p of status.processes) {
        const old = before.processes.find((o) => o.url === p.url);
        if (old && dt > 0) {
          rates.current.set(p.url, {
            accepted: Math.max(0, p.readingsAccepted - old.readingsAccepted) / dt,
            written: Math.max(0, p.readingsWritten - old.readingsWritten) / dt,
          });
        }
      }
    }
    previous.current = status;
  }
  return rates.current;
}

export function PipelinePage() {
  const poll = usePoll(pipelineStatus, EVERY_MS, []);
  const rates = useRates(poll.value);
  return (
    <section aria-labelledby="pipeline-title">
      <h1 id="pipeline-title">Pipeline</h1>
      <p class="hint">
        Read by the api from each process's /metrics and /health/ready every {EVERY_MS / 1000} s. Rates need two
        answers.
      </p>
      <ErrorBanner error={poll.error} />
      <div class="cards">
        {poll.value?.processes.map((p) => (
          <ProcessCard key={p.url} process={p} rate={rates.get(p.url)} />
        ))}
      </div>
    </section>
  );
}

function ProcessCard({ process: p, rate }: { process: ProcessStatus; rate?: { accepted: number; written: number } }) {
  const worker = p.role === 'worker' || p.role === 'all';
  const api = p.role === 'api' || p.role === 'all';
  return (
    <article
      class="card"
      data-testid="process"
      data-role={p.role ?? ''}
      aria-label={`${p.role ?? 'unknown'} process at ${p.url}`}
    >
      <h2>
        {p.role ?? 'unreachable'} <small>{p.url}</small>
      </h2>
      <p>
        Health:{' '}
        <span class={`health ${p.health.status}`} data-testid="health">
          {p.health.status === 'ok' ? '✔ ready' : p.health.status === 'error' ? '✖ not ready' : '? unreachable'}
        </span>
        {p.error && <span class="error-text"> ({p.error})</span>}
      </p>
      {Object.keys(p.health.checks).length > 0 && (
        <ul class="checks">
          {Object.entries(p.health.checks).map(([name, check]) => (
            <li key={name}>
              {check.status === 'up' ? '✔' : '✖'} {name}: {check.status}
            </li>
          ))}
        </ul>
      )}
      <dl class="numbers">
        {api && (
          <div>
            <dt>Ingest rate</dt>
            <dd data-testid="ingest-rate">{rate ? `${formatNumber(rate.accepted, 2)} readings/s` : '…'}</dd>
            <dd class="sub">{p.readingsAccepted} accepted since start</dd>
          </div>
        )}
        {worker && (
          <>
            <div>
              <dt>Write rate</dt>
              <dd>{rate ? `${formatNumber(rate.written, 2)} readings/s` : '…'}</dd>
              <dd class="sub">
                {p.readingsWritten} written, {p.deadLetters} dead letters
              </dd>
            </div>
            <div>
              <dt>Buffer</dt>
              <dd data-testid="buffer">{p.bufferReadings ?? '—'} readings</dd>
            </div>
            <div>
              <dt>Flush latency</dt>
              <dd>
                mean {formatSeconds(p.flush.meanSeconds)}, p95 ≤ {formatSeconds(p.flush.p95Seconds)}
              </dd>
              <dd class="sub">{p.flush.count} flushes</dd>
            </div>
            <div>
              <dt>End-to-end latency</dt>
              <dd data-testid="e2e-latency">
                mean {formatSeconds(p.endToEnd.meanSeconds)}, p50 ≤ {formatSeconds(p.endToEnd.p50Seconds)}, p95 ≤{' '}
                {formatSeconds(p.endToEnd.p95Seconds)}
              </dd>
            </div>
          </>
        )}
      </dl>
      {worker && (
        <table class="lag">
          <caption>Consumer lag per partition</caption>
          <thead>
            <tr>
              <th scope="col">Topic</th>
              <th scope="col">Partition</th>
              <th scope="col">Lag (records)</th>
            </tr>
          </thead>
          <tbody>
            {p.consumerLag.length === 0 && (
              <tr>
                <td colSpan={3}>no partitions assigned</td>
              </tr>
            )}
            {p.consumerLag.map((l) => (
              <tr key={`${l.topic}:${l.partition}`}>
                <td>{l.topic}</td>
                <td>{l.partition}</td>
                <td>{l.lag}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </article>
  );
}
