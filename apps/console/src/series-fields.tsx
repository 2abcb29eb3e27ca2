/** Live's series picker: sensor id and metric, with suggestions from the GET /v1/series catalog as one types. */
import { useEffect, useState } from 'preact/hooks';

import { listSeries, type CatalogSeries } from './api.js';

export interface SeriesName {
  sensorId: string;
  metric: string;
}

const SUGGEST_DELAY_MS = 250;
/** What the api accepts in a name (libs/contracts' NAME_CHARACTERS, at most MAX_SENSOR_ID_LENGTH); anything else would only earn a 400. */
const NAME = /^[A-Za-z0-9._:-]{0,128}$/;

export function SeriesFields({ value, onChange }: { value: SeriesName; onChange: (next: SeriesName) => void }) {
  const [suggested, setSuggested] = useState<CatalogSeries[]>([]);
  useEffect(() => {
    if (!NAME.test(value.sensorId)) return setSuggested([]);
    const timer = setTimeout(() => {
      // Suggestions only: a refused or failed catalog request leaves the fields as typed.
      listSeries({ sensorPrefix: value.sensorId, limit: 20 })
        .then((page) => setSuggested(page.series))
        .catch(() => setSuggested([]));
    }, SUGGEST_DELAY_MS);
    return () => clearTimeout(timer);
  }, [value.sensorId]);
  const sensors = [...new Set(suggested.map((s) => s.sensorId))];
  const metrics = [...new Set(suggested.filter((s) => s.sensorId === value.sensorId).map((s) => s.metric))];
  return (
    <>
      <label>
        Sensor id
        <input
          name="sensorId"
          list="live-sensors"
          required
          value={value.sensorId}
          onInput={(e) => onChange({ ...value, sensorId: e.currentTarget.value.trim() })}
        />
        <datalist id="live-sensors">
          {sensors.map((id) => (
            <option key={id} value={id} />
          ))}
        </datalist>
      </label>
      <label>
        Metric
        <input
          name="metric"
          list="live-metrics"
          required
          value={value.metric}
          onInput={(e) => onChange({ ...value, metric: e.currentTarget.value.trim() })}
        />
        <datalist id="live-metrics">
          {metrics.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
      </label>
    </>
  );
}
