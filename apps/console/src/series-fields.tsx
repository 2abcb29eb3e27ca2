/** The series picker of Explore and Live: sensor id and metric as text until the api has a series catalog. */
export interface SeriesName {
  sensorId: string;
  metric: string;
}

export function SeriesFields({ value, onChange }: { value: SeriesName; onChange: (next: SeriesName) => void }) {
  return (
    <>
      <label>
        Sensor id
        <input
          name="sensorId"
          required
          value={value.sensorId}
          onInput={(e) => onChange({ ...value, sensorId: e.currentTarget.value.trim() })}
        />
      </label>
      <label>
        Metric
        <input
          name="metric"
          required
          value={value.metric}
          onInput={(e) => onChange({ ...value, metric: e.currentTarget.value.trim() })}
        />
      </label>
    </>
  );
}
