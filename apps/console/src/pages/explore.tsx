/** Explore: one series over a range, in a window, several functions; chart, table and CSV, all held in the URL. */
import { useEffect, useMemo, useState } from 'preact/hooks';

import { FUNCTIONS, querySeries, type Fn, type SeriesAnswer } from '../api.js';
import { Chart, chartData, FN_STYLE } from '../chart.js';
import { bucketsCsv, download } from '../csv.js';
import { formatNumber, formatTime, isKnownZone } from '../format.js';
import {
  parseExplore,
  PRESETS,
  resolveRange,
  resolveWindow,
  serializeExplore,
  WINDOWS,
  type ExploreState,
} from '../query.js';
import { navigate } from '../route.js';
import { SeriesFields } from '../series-fields.js';
import { ErrorBanner } from '../status.js';

const ZONES = ['browser', 'UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo'];

export function ExplorePage({ params }: { params: URLSearchParams }) {
  const state = useMemo(() => parseExplore(params), [params.toString()]);
  const [draft, setDraft] = useState<ExploreState>(state);
  useEffect(() => setDraft(state), [state]);
  const [answer, setAnswer] = useState<{ key: string; data?: SeriesAnswer; error?: unknown; window?: string }>();
  const ready = state.sensorId !== '' && state.metric !== '';
  const range = resolveRange(state);
  const key = serializeExplore(state).toString();
  // Show on an unchanged query asks again (new data, or a token just entered).
  const [runs, setRuns] = useState(0);

  useEffect(() => {
    if (!ready || typeof range === 'string') return;
    const window = resolveWindow(state.window, range.from, range.to);
    let current = true;
    setAnswer((prev) => ({ ...prev, key: '' }));
    querySeries({ sensorId: state.sensorId, metric: state.metric, ...range, window })
      .then((data) => current && setAnswer({ key, data, window }))
      .catch((error: unknown) => current && setAnswer({ key, error }));
    return () => {
      current = false;
    };
  }, [key, runs]);

  const apply = (next: ExploreState) => navigate('explore', serializeExplore(next));
  const update = (patch: Partial<ExploreState>, now = false) => {
    const next = { ...draft, ...patch };
    setDraft(next);
    if (now) apply(next);
  };
  const zoomTo = (from: number, to: number) =>
    apply({
      ...state,
      range: 'absolute',
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      window: 'auto',
    });

  const data = answer?.data;
  const chart = useMemo(() => (data ? chartData(data.buckets, state.fns) : undefined), [data, state.fns.join()]);
  const zoneProblem = isKnownZone(draft.tz) ? undefined : `Unknown time zone "${draft.tz}" (use an IANA name)`;

  return (
    <section aria-labelledby="explore-title">
      <h1 id="explore-title">Explore</h1>
      <form
        class="controls"
        onSubmit={(e) => {
          e.preventDefault();
          if (zoneProblem) return;
          apply(draft);
          setRuns((n) => n + 1);
        }}
      >
        <SeriesFields value={draft} onChange={(series) => update(series)} />
        <label>
          Range
          <select
            name="range"
            value={draft.range}
            onChange={(e) => update({ range: e.currentTarget.value as ExploreState['range'] })}
          >
            {Object.keys(PRESETS).map((p) => (
              <option key={p} value={p}>
                last {p}
              </option>
            ))}
            <option value="absolute">absolute…</option>
          </select>
        </label>
        {draft.range === 'absolute' && (
          <>
            <label>
              From
              <input
                name="from"
                placeholder="2026-11-28T00:00:00Z"
                value={draft.from}
                onInput={(e) => update({ from: e.currentTarget.value.trim() })}
              />
            </label>
            <label>
              To
              <input
                name="to"
                placeholder="2026-11-29T00:00:00Z"
                value={draft.to}
                onInput={(e) => update({ to: e.currentTarget.value.trim() })}
              />
            </label>
          </>
        )}
        <label>
          Window
          <select name="window" value={draft.window} onChange={(e) => update({ window: e.currentTarget.value })}>
            <option value="auto">auto</option>
            {WINDOWS.map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
            {!(WINDOWS as readonly string[]).includes(draft.window) && draft.window !== 'auto' && (
              <option value={draft.window}>{draft.window}</option>
            )}
          </select>
        </label>
        <label>
          Time zone
          <input
            name="tz"
            list="zones"
            value={draft.tz}
            aria-invalid={zoneProblem ? true : undefined}
            onInput={(e) => update({ tz: e.currentTarget.value.trim() })}
          />
          <datalist id="zones">
            {ZONES.map((z) => (
              <option key={z} value={z} />
            ))}
          </datalist>
        </label>
        <fieldset class="fns">
          <legend>Functions</legend>
          {FUNCTIONS.map((fn) => (
            <label key={fn} class="check">
              <input
                type="checkbox"
                name="fn"
                value={fn}
                checked={draft.fns.includes(fn)}
                onChange={(e) => {
                  const fns = e.currentTarget.checked
                    ? FUNCTIONS.filter((f) => f === fn || draft.fns.includes(f))
                    : draft.fns.filter((f) => f !== fn);
                  if (fns.length > 0) update({ fns }, true);
                }}
              />
              <span class="swatch" style={swatch(fn)} aria-hidden="true" />
              {fn}
            </label>
          ))}
        </fieldset>
        <button type="submit">Show</button>
      </form>
      {zoneProblem && (
        <p class="error" role="alert">
          {zoneProblem}
        </p>
      )}
      {!ready && <p class="hint">Enter a sensor id and a metric, then Show.</p>}
      {typeof range === 'string' && ready && (
        <p class="error" role="alert">
          {range}
        </p>
      )}
      {answer?.error !== undefined && <ErrorBanner error={answer.error} />}
      {data && chart && (
        <div aria-busy={answer?.key !== key}>
          <p class="summary" data-testid="summary">
            {data.buckets.length} buckets of {answer?.window} for {data.sensorId} / {data.metric},{' '}
            {formatTime(Date.parse(data.from), state.tz)} to {formatTime(Date.parse(data.to), state.tz)}. Drag across
            the chart to zoom in; click a legend entry to hide a line.
          </p>
          <Chart
            data={chart}
            fns={state.fns}
            tz={state.tz}
            onZoom={zoomTo}
            label={`Chart of ${state.fns.join(', ')} per ${answer?.window} bucket`}
          />
          <p>
            <button
              type="button"
              onClick={() =>
                download(`${data.sensorId}-${data.metric}-${answer?.window}.csv`, bucketsCsv(data.buckets, state.fns))
              }
            >
              Download CSV
            </button>
          </p>
          <BucketTable answer={data} fns={state.fns} tz={state.tz} />
        </div>
      )}
    </section>
  );
}

function swatch(fn: Fn) {
  const style = FN_STYLE[fn];
  return { borderTop: `3px ${style.dash ? 'dashed' : 'solid'} ${style.stroke}` };
}

function BucketTable({ answer, fns, tz }: { answer: SeriesAnswer; fns: readonly Fn[]; tz: string }) {
  if (answer.buckets.length === 0) return <p class="hint">No readings in this range.</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Buckets">
      <table class="buckets">
        <thead>
          <tr>
            <th scope="col">Start ({tz === 'browser' ? 'browser zone' : tz})</th>
            {fns.map((fn) => (
              <th key={fn} scope="col">
                {fn}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {answer.buckets.map((b) => (
            <tr key={b.start} data-start={b.start}>
              <th scope="row">{formatTime(Date.parse(b.start), tz)}</th>
              {fns.map((fn) => (
                <td key={fn} data-fn={fn} data-value={String(b[fn])}>
                  {formatNumber(b[fn])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
