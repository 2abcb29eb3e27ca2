/** Live: one series polled every few seconds; its last reading's time and value and how fresh it is. */
import { useEffect, useState } from 'preact/hooks';

import { latestReading } from '../api.js';
import { formatAge, formatNumber, formatTime } from '../format.js';
import { navigate } from '../route.js';
import { SeriesFields } from '../series-fields.js';
import { ErrorBanner, usePoll } from '../status.js';

const LOOKBACK_MS = 15 * 60_000;
const INTERVALS = [1_000, 2_000, 5_000, 10_000];

export function LivePage({ params }: { params: URLSearchParams }) {
  const sensorId = params.get('sensorId') ?? '';
  const metric = params.get('metric') ?? '';
  const every = Number(params.get('every')) || 2_000;
  const [draft, setDraft] = useState({ sensorId, metric });
  useEffect(() => setDraft({ sensorId, metric }), [sensorId, metric]);
  const ready = sensorId !== '' && metric !== '';
  const poll = usePoll(() => latestReading(sensorId, metric, LOOKBACK_MS), every, [sensorId, metric], ready);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, []);
  const last = poll.value;
  const lastMs = last ? Date.parse(last.start) : undefined;
  const go = (patch: Record<string, string>) =>
    navigate(
      'live',
      new URLSearchParams({ sensorId: draft.sensorId, metric: draft.metric, every: String(every), ...patch }),
    );

  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          go({});
        }}
      >
        <SeriesFields value={draft} onChange={setDraft} />
        <label>
          Refresh every
          <select name="every" value={String(every)} onChange={(e) => go({ every: e.currentTarget.value })}>
            {INTERVALS.map((ms) => (
              <option key={ms} value={String(ms)}>
                {ms / 1000} s
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Follow</button>
      </form>
      {!ready && <p class="hint">Enter a sensor id and a metric to follow.</p>}
      <ErrorBanner error={poll.error} />
      {ready && (
        <dl class="live" aria-live="polite" data-testid="live">
          <div>
            <dt>Last reading (to the second)</dt>
            <dd data-testid="live-time" data-value={last?.start ?? ''}>
              {lastMs === undefined ? `none in the last ${LOOKBACK_MS / 60_000} min` : formatTime(lastMs, 'browser')}
            </dd>
          </div>
          <div>
            <dt>Value{last && last.count > 1 ? ` (avg of ${last.count} in that second)` : ''}</dt>
            <dd data-testid="live-value" data-value={last ? String(last.avg) : ''}>
              {formatNumber(last?.avg)}
            </dd>
          </div>
          <div>
            <dt>Freshness (now − reading time)</dt>
            <dd data-testid="live-age">{lastMs === undefined ? '—' : formatAge(now - lastMs)}</dd>
          </div>
          <div>
            <dt>Checked</dt>
            <dd>{poll.at ? formatTime(poll.at, 'browser') : '—'}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
