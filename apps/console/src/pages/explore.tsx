/**
 * Explore: series from the catalog over a range, in a window of a time zone, several functions, grouped and
 * gap-filled (GET /v2/aggregates); a chart, a table of the same buckets and the api's CSV, all held in the URL.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';

import {
  aggregatesCsv,
  bucketValue,
  FILLS,
  NAMED_FNS,
  PERCENTILE,
  queryAggregates,
  type AggregatesAnswer,
  type AggregatesQuery,
  type Fill,
} from '../api.js';
import { CatalogPicker } from '../catalog.js';
import { chartData, lineStyle } from '../chart-data.js';
import { Chart, CHART_KEYS_HELP } from '../chart.js';
import { download } from '../csv.js';
import { formatNumber, formatTime, isKnownZone, resolveZone } from '../format.js';
import {
  aggregatesQuery,
  GROUPINGS,
  list,
  parseExplore,
  PRESETS,
  resolveRange,
  serializeExplore,
  WINDOWS,
  type ExploreState,
} from '../query.js';
import { navigate } from '../route.js';
import { ErrorBanner, describeError } from '../status.js';

const ZONES = ['browser', 'UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Tokyo'];

interface Answer {
  key: string;
  query?: AggregatesQuery;
  data?: AggregatesAnswer;
  error?: unknown;
}

export function ExplorePage({ params }: { params: URLSearchParams }) {
  const state = useMemo(() => parseExplore(params), [params.toString()]);
  const [draft, setDraft] = useState<ExploreState>(state);
  const [percentiles, setPercentiles] = useState(percentilesOf(state.fns));
  useEffect(() => {
    setDraft(state);
    setPercentiles(percentilesOf(state.fns));
  }, [state]);
  const [answer, setAnswer] = useState<Answer>();
  const [csvError, setCsvError] = useState<unknown>();
  const ready = state.metric !== '';
  const range = resolveRange(state);
  const key = serializeExplore(state).toString();
  // Show on an unchanged query asks again (new data, or a token just entered).
  const [runs, setRuns] = useState(0);

  useEffect(() => {
    if (!ready || typeof range === 'string' || !isKnownZone(state.tz)) return;
    const query = aggregatesQuery(state, range);
    let current = true;
    setAnswer((prev) => ({ ...prev, key: '' }));
    queryAggregates(query)
      .then((data) => current && setAnswer({ key, query, data }))
      .catch((error: unknown) => current && setAnswer({ key, query, error }));
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
  /** A dragged or stepped range: absolute (whole seconds, outwards), and `auto` so the window gets finer with it. */
  const zoomTo = (from: number, to: number) =>
    apply({
      ...state,
      range: 'absolute',
      from: new Date(Math.floor(from / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      to: new Date(Math.ceil(to / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
      window: 'auto',
    });
  const saveCsv = async (query: AggregatesQuery) => {
    setCsvError(undefined);
    try {
      download(`funnel-${query.metric.replace(/,/g, '+')}-${query.window}.csv`, await aggregatesCsv(query));
    } catch (error) {
      setCsvError(error);
    }
  };

  const data = answer?.data;
  const chart = useMemo(() => {
    if (!data) return undefined;
    // What the chart draws (even nothing), left on window.funnelConsole for tests and debugging; set while
    // rendering, so it is there as soon as the table of the same answer is.
    const drawn = chartData(data);
    window.funnelConsole = { ...window.funnelConsole, chart: drawn };
    return drawn;
  }, [data]);
  const zoneProblem = isKnownZone(draft.tz) ? undefined : `Unknown time zone "${draft.tz}" (use an IANA name)`;
  const percentileProblem = list(percentiles).find((p) => !PERCENTILE.test(p));
  const groupings = [...GROUPINGS, ...Object.keys(draft.tags).map((k) => `tag.${k}`)];

  return (
    <section aria-labelledby="explore-title">
      <h1 id="explore-title">Explore</h1>
      <form
        class="explore"
        onSubmit={(e) => {
          e.preventDefault();
          if (zoneProblem || percentileProblem) return;
          apply({ ...draft, fns: withPercentiles(draft.fns, percentiles) });
          setRuns((n) => n + 1);
        }}
      >
        <CatalogPicker value={draft} tz={draft.tz} onChange={(selection) => update(selection)} />
        <div class="controls">
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
                  aria-describedby="range-help"
                  value={draft.from}
                  onInput={(e) => update({ from: e.currentTarget.value.trim() })}
                />
              </label>
              <label>
                To
                <input
                  name="to"
                  placeholder="2026-11-29 00:00"
                  aria-describedby="range-help"
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
          <label>
            Fill
            <select name="fill" value={draft.fill} onChange={(e) => update({ fill: e.currentTarget.value as Fill })}>
              {FILLS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </label>
          <label>
            Group by
            <input
              name="groupBy"
              list="groupings"
              value={draft.groupBy}
              onInput={(e) => update({ groupBy: e.currentTarget.value.replace(/\s/g, '') })}
            />
            <datalist id="groupings">
              {groupings.map((g) => (
                <option key={g} value={g} />
              ))}
            </datalist>
          </label>
          <fieldset class="fns">
            <legend>Functions</legend>
            {NAMED_FNS.map((fn) => (
              <label key={fn} class="check">
                <input
                  type="checkbox"
                  name="fn"
                  value={fn}
                  checked={draft.fns.includes(fn)}
                  onChange={(e) => {
                    const named = e.currentTarget.checked
                      ? NAMED_FNS.filter((f) => f === fn || draft.fns.includes(f))
                      : NAMED_FNS.filter((f) => f !== fn && draft.fns.includes(f));
                    const fns = withPercentiles(named, percentiles);
                    if (fns.length > 0) update({ fns }, !percentileProblem);
                  }}
                />
                {fn}
              </label>
            ))}
            <label class="check">
              Percentiles
              <input
                name="percentiles"
                size={14}
                placeholder="p50, p95, p99.9"
                aria-invalid={percentileProblem ? true : undefined}
                value={percentiles}
                onInput={(e) => setPercentiles(e.currentTarget.value)}
              />
            </label>
          </fieldset>
          <button type="submit">Show</button>
        </div>
      </form>
      <p class="hint" id="range-help">
        Times without a zone (2026-11-28 01:00) are read in the chosen time zone; minute, hour, day, week and month are
        calendar windows of that zone, the others fixed lengths aligned to UTC.
      </p>
      {zoneProblem && (
        <p class="error" role="alert">
          {zoneProblem}
        </p>
      )}
      {percentileProblem && (
        <p class="error" role="alert">
          Percentile "{percentileProblem}" is not p&lt;q&gt; with 0 &lt; q ≤ 100 (e.g. p95, p99.9)
        </p>
      )}
      {!ready && <p class="hint">Pick a series from the catalog (or type a metric), then Show.</p>}
      {typeof range === 'string' && ready && (
        <p class="error" role="alert">
          {range}
        </p>
      )}
      {answer?.error !== undefined && <ErrorBanner error={answer.error} />}
      {data && chart && answer?.query && (
        <div aria-busy={answer.key !== key}>
          <p class="summary" data-testid="summary">
            {data.series.length} series, {chart.x.length} buckets of {data.window} in {data.tz},{' '}
            {formatTime(Date.parse(data.from), state.tz)} to {formatTime(Date.parse(data.to), state.tz)}.
          </p>
          <p class="hint" id="chart-help">
            Drag across the chart to zoom in (the window becomes auto, finer). With the chart focused (Tab to it):{' '}
            {CHART_KEYS_HELP}. Click a legend entry to hide a line.
          </p>
          {chart.x.length > 0 && (
            <Chart
              data={chart}
              tz={state.tz}
              range={{ from: Date.parse(data.from), to: Date.parse(data.to) }}
              onZoom={zoomTo}
              describedBy="chart-help"
              label={`Chart of ${data.fns.join(', ')} per ${data.window} bucket for ${data.series.length} series`}
            />
          )}
          <p>
            <button type="button" onClick={() => void saveCsv(answer.query!)}>
              Download CSV
            </button>
          </p>
          {csvError !== undefined && (
            <p class="error" role="alert">
              CSV: {describeError(csvError)}
            </p>
          )}
          <BucketTable answer={data} tz={state.tz} />
        </div>
      )}
    </section>
  );
}

function percentilesOf(fns: readonly string[]): string {
  return fns.filter((fn) => PERCENTILE.test(fn)).join(', ');
}

/** The named functions chosen, then the percentiles typed (the api answers in this order). */
function withPercentiles(fns: readonly string[], percentiles: string): string[] {
  const named = NAMED_FNS.filter((fn) => fns.includes(fn));
  return [...named, ...new Set(list(percentiles).filter((p) => PERCENTILE.test(p)))];
}

function BucketTable({ answer, tz }: { answer: AggregatesAnswer; tz: string }) {
  if (answer.series.every((s) => s.buckets.length === 0)) return <p class="hint">No readings in this range.</p>;
  return (
    <div class="table-wrap" tabIndex={0} role="region" aria-label="Buckets">
      <table class="buckets">
        <thead>
          <tr>
            <th scope="col">Start ({tz === 'browser' ? `browser zone, ${resolveZone(tz)}` : tz})</th>
            {answer.groupBy.map((field) => (
              <th key={field} scope="col">
                {field}
              </th>
            ))}
            {answer.fns.map((fn, i) => (
              <th key={fn} scope="col">
                <span class="swatch" style={swatch(i)} aria-hidden="true" /> {fn}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {answer.series.flatMap((s) =>
            s.buckets.map((b) => (
              <tr key={`${JSON.stringify(s.key)}${b.start}`} data-start={b.start} data-key={JSON.stringify(s.key)}>
                <th scope="row">{formatTime(Date.parse(b.start), tz)}</th>
                {answer.groupBy.map((field) => (
                  <td key={field}>{s.key[field] ?? '(none)'}</td>
                ))}
                {answer.fns.map((fn) => (
                  <td key={fn} data-fn={fn} data-value={String(bucketValue(b, fn))}>
                    {formatNumber(bucketValue(b, fn))}
                  </td>
                ))}
              </tr>
            )),
          )}
        </tbody>
      </table>
    </div>
  );
}

/** The dash of a function's lines (the first series' colour), as a legend swatch in the table head. */
function swatch(fnIndex: number) {
  const style = lineStyle(0, fnIndex);
  return { borderTop: `3px ${style.dash ? 'dashed' : 'solid'} ${style.stroke}` };
}
