/** Explore's series picker: the GET /v1/series catalog searched by sensor prefix and tags, ticked into the query. */
import { useEffect, useState } from 'preact/hooks';

import { listSeries, TOKEN_CHANGED, type CatalogSeries } from './api.js';
import { formatTime } from './format.js';
import { list, parseTags, tagsText } from './query.js';
import { ErrorBanner } from './status.js';

export interface Selection {
  /** One metric or a comma list. */
  metric: string;
  sensors: string[];
  sensorPrefix: string;
  tags: Record<string, string>;
}

const PAGE = 50;
const SEARCH_DELAY_MS = 250;

export function CatalogPicker({
  value,
  tz,
  onChange,
}: {
  value: Selection;
  tz: string;
  onChange: (next: Selection) => void;
}) {
  const [tagText, setTagText] = useState(tagsText(value.tags));
  useEffect(() => setTagText(tagsText(value.tags)), [tagsText(value.tags)]);
  const [found, setFound] = useState<{ series: CatalogSeries[]; next?: string; error?: unknown }>({ series: [] });
  const filterKey = JSON.stringify([value.sensorPrefix, value.tags]);

  const search = async (cursor?: string) => {
    try {
      const page = await listSeries({ sensorPrefix: value.sensorPrefix, tags: value.tags, limit: PAGE, cursor });
      setFound((prev) => ({ series: [...(cursor ? prev.series : []), ...page.series], next: page.next }));
    } catch (error) {
      setFound((prev) => (cursor ? { ...prev, error } : { series: [], error }));
    }
  };
  useEffect(() => {
    const timer = setTimeout(() => void search(), SEARCH_DELAY_MS);
    // A token entered after a 401 lists the catalog at once.
    const again = () => void search();
    addEventListener(TOKEN_CHANGED, again);
    return () => {
      clearTimeout(timer);
      removeEventListener(TOKEN_CHANGED, again);
    };
  }, [filterKey]);

  const metrics = list(value.metric);
  const ticked = (s: CatalogSeries) => value.sensors.includes(s.sensorId) && metrics.includes(s.metric);
  const tick = (s: CatalogSeries, on: boolean) => {
    const sensors = on ? [...new Set([...value.sensors, s.sensorId])] : value.sensors.filter((id) => id !== s.sensorId);
    const metric = on && !metrics.includes(s.metric) ? [...metrics, s.metric].join(',') : value.metric;
    onChange({ ...value, sensors, metric });
  };
  const knownMetrics = [...new Set(found.series.map((s) => s.metric))];

  return (
    <fieldset class="catalog">
      <legend>Series</legend>
      <div class="controls">
        <label>
          Metric
          <input
            name="metric"
            list="catalog-metrics"
            required
            placeholder="temperature"
            value={value.metric}
            onInput={(e) => onChange({ ...value, metric: e.currentTarget.value.replace(/\s/g, '') })}
          />
          <datalist id="catalog-metrics">
            {knownMetrics.map((m) => (
              <option key={m} value={m} />
            ))}
          </datalist>
        </label>
        <label>
          Sensor prefix
          <input
            name="sensorPrefix"
            type="search"
            placeholder="boiler-"
            value={value.sensorPrefix}
            onInput={(e) => onChange({ ...value, sensorPrefix: e.currentTarget.value.trim() })}
          />
        </label>
        <label>
          Tags
          <input
            name="tags"
            placeholder="site=plant-a, line=2"
            value={tagText}
            onInput={(e) => {
              setTagText(e.currentTarget.value);
              onChange({ ...value, tags: parseTags(e.currentTarget.value) });
            }}
          />
        </label>
      </div>
      <ErrorBanner error={found.error} />
      <p class="hint" id="catalog-help">
        {value.sensors.length === 0
          ? `No series ticked: the query takes every sensor${value.sensorPrefix ? ` starting with "${value.sensorPrefix}"` : ''}${Object.keys(value.tags).length ? ' with these tags' : ''}.`
          : `Ticked: ${value.sensors.join(', ')}.`}
      </p>
      <div class="table-wrap catalog-list" tabIndex={0} role="region" aria-label="Series catalog">
        <table class="series">
          <thead>
            <tr>
              <th scope="col">Pick</th>
              <th scope="col">Sensor</th>
              <th scope="col">Metric</th>
              <th scope="col">Tags</th>
              <th scope="col">Last reading</th>
              <th scope="col">Readings</th>
            </tr>
          </thead>
          <tbody>
            {found.series.map((s) => (
              <tr
                key={`${s.sensorId}\u0000${s.metric}\u0000${tagsText(s.tags)}`}
                data-sensor={s.sensorId}
                data-metric={s.metric}
              >
                <td>
                  <input
                    type="checkbox"
                    aria-label={`${s.sensorId} ${s.metric}`}
                    checked={ticked(s)}
                    onChange={(e) => tick(s, e.currentTarget.checked)}
                  />
                </td>
                <td>{s.sensorId}</td>
                <td>{s.metric}</td>
                <td>{tagsText(s.tags) || '—'}</td>
                <td>{formatTime(Date.parse(s.lastTs), tz)}</td>
                <td>{s.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {found.series.length === 0 && <p class="hint">No series in the catalog match.</p>}
      </div>
      {found.next && (
        <button type="button" onClick={() => void search(found.next)}>
          More series
        </button>
      )}
    </fieldset>
  );
}
