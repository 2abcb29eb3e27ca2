#!/usr/bin/env bash
# Posts the dataset of docs/query-examples.md to a running Funnel, waits until the worker stored it, then runs
# every example of that page and prints each command and its answer as Markdown (progress goes to stderr).
#
#   MAX_CONCURRENT_QUERIES=1 QUERY_QUEUE_WAIT_MS=0 MAX_RAW_READINGS_PER_QUERY=500 QUERY_COALESCE=false npm run stack   # one shell
#   bash docs/query-examples.sh > /tmp/examples.md                                                                      # another
#
# The first three settings only make the query limits visible on a small dataset; QUERY_COALESCE=false keeps the
# six identical parallel queries of the last refusal from sharing one run. With the defaults every other answer is
# the same. Needs bash, curl (7.84+) and awk. FUNNEL_TOKEN defaults to the stack's .funnel/admin-token;
# FUNNEL_URL to http://localhost:3000. Re-running is safe: each batch has an Idempotency-Key.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FUNNEL_URL=${FUNNEL_URL:-http://localhost:3000}
if [[ -z ${FUNNEL_TOKEN:-} ]]; then FUNNEL_TOKEN=$(cat "$here/../.funnel/admin-token"); fi
export FUNNEL_TOKEN

# readings SENSOR SITE METRIC COUNT STEP_S FORMULA [GAP_FROM_S GAP_TO_S]: a JSON array of readings from
# 2026-10-23T00:00Z, one every STEP_S seconds, i = 0..COUNT-1, none with ts in [GAP_FROM_S, GAP_TO_S).
readings() {
  awk -v s="$1" -v site="$2" -v m="$3" -v n="$4" -v step="$5" -v f="$6" -v g0="${7:-0}" -v g1="${8:-0}" 'BEGIN {
    t0 = 1792713600; printf "["; sep = ""
    for (i = 0; i < n; i++) {
      t = t0 + i * step
      if (t >= g0 && t < g1) continue
      if (f == "ramp12") v = 20 + (i % 12) * 0.25
      else if (f == "dayramp") v = 18 + (i % 96) / 16
      else if (f == "cold") v = -2 + (i % 16) * 0.25
      else v = 3 + (i % 4) * 0.25
      tags = site == "" ? "" : sprintf(",\"tags\":{\"site\":\"%s\"}", site)
      printf "%s{\"sensorId\":\"%s\",\"metric\":\"%s\",\"value\":%.10g,\"ts\":%d000%s}", sep, s, m, v, t, tags
      sep = ","
    }
    print "]"
  }'
}

# fleet: 1,001 sensors fleet-0000..fleet-1000, one humidity reading each at 2026-10-24T00:00Z.
fleet() {
  awk 'BEGIN { printf "["; for (i = 0; i <= 1000; i++) printf "%s{\"sensorId\":\"fleet-%04d\",\"metric\":\"humidity\",\"value\":%d,\"ts\":1792800000000}", (i ? "," : ""), i, 40 + i % 20; print "]" }'
}

# ex TITLE [status|raw] < command: prints the command (as written, with localhost:3000 and $FUNNEL_TOKEN) and
# its answer. With "status" (the default) the command runs with -w '\n%{http_code}' added and the answer is
# preceded by "# HTTP <code>"; with "raw" it runs as shown. CUT=<n> cuts an answer after n characters.
ex() {
  local title=$1 mode=${2:-status} cmd out status
  cmd=$(cat)
  printf '### %s\n\n```bash\n%s\n```\n\n```text\n' "$title" "$cmd"
  if [[ $mode == status ]]; then
    out=$(eval "${cmd//localhost:3000/$FUNNEL_URL} -w '\n%{http_code}'")
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    printf '# HTTP %s\n' "$status"
  else
    out=$(eval "${cmd//localhost:3000/$FUNNEL_URL}")
  fi
  out=${out//$'\r'/}
  if [[ -n ${CUT:-} && ${#out} -gt $CUT ]]; then
    printf '%s…\n(cut: %d of %d characters shown)\n' "${out:0:$CUT}" "$CUT" "${#out}"
  else
    printf '%s\n' "$out"
  fi
  printf '```\n\n'
}

# count_of QUERY: the sum of every "count" in a /v2/aggregates or /v1/series answer.
count_of() {
  curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" "$FUNNEL_URL$1" | { grep -o '"count":[0-9]*' || true; } | awk -F: '{ s += $2 } END { print s + 0 }'
}

wait_for() {
  local what=$1 query=$2 want=$3 got=0 i
  for i in $(seq 1 120); do
    got=$(count_of "$query")
    if [[ $got == "$want" ]]; then
      echo "stored: $what ($got)" >&2
      return 0
    fi
    sleep 1
  done
  echo "timed out waiting for $what: $got of $want" >&2
  return 1
}

echo "## The dataset, posted"
echo
ex 'boiler-1: every 15 min for 4 days, 20 + (i mod 12) / 4' <<'EOF'
readings boiler-1 north temperature 384 900 ramp12 | curl -s -XPOST -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: qx-boiler-1' --data-binary @- localhost:3000/v1/points
EOF
ex 'boiler-2: 18 + (i mod 96) / 16, nothing from 2026-10-24T12:00Z to 2026-10-25T12:00Z' <<'EOF'
readings boiler-2 north temperature 384 900 dayramp 1792843200 1792929600 | curl -s -XPOST -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: qx-boiler-2' --data-binary @- localhost:3000/v1/points
EOF
ex 'pump-1: −2 + (i mod 16) / 4 (negative values and zero)' <<'EOF'
readings pump-1 south temperature 384 900 cold | curl -s -XPOST -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: qx-pump-1' --data-binary @- localhost:3000/v1/points
EOF
ex 'pump-1 pressure: hourly, 3 + (i mod 4) / 4' <<'EOF'
readings pump-1 south pressure 96 3600 steps | curl -s -XPOST -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: qx-pump-1-pressure' --data-binary @- localhost:3000/v1/points
EOF
ex 'fleet: 1,001 humidity sensors, one reading each' <<'EOF'
fleet | curl -s -XPOST -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'content-type: application/json' -H 'Idempotency-Key: qx-fleet' --data-binary @- localhost:3000/v1/points
EOF

range='from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
wait_for 'temperature readings' "/v2/aggregates?metric=temperature&groupBy=none&window=month&fns=count&$range" 1056
wait_for 'pressure readings' "/v2/aggregates?metric=pressure&groupBy=none&window=month&fns=count&$range" 96
wait_for 'humidity readings' "/v2/aggregates?metric=humidity&groupBy=none&window=month&fns=count&$range" 1001
wait_for 'the temperature catalog' '/v1/series?metric=temperature' 1056

echo '## `GET /v2/aggregates`'
echo
ex 'A metric list: two metrics of one sensor, UTC days' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature,pressure&sensorId=pump-1&window=day&fns=count,avg&from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z'
EOF
ex 'A `sensorId` list' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1,pump-1&window=day&fns=count,min,max&from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z'
EOF
ex 'A `sensorPrefix`, grouped by `sensorId` (boiler-2 has its gap on the 24th and 25th)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorPrefix=boiler-&groupBy=sensorId&window=day&fns=count&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'A tag filter, every matched reading merged (`groupBy=none`)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&tag.site=north&groupBy=none&window=day&fns=count,sum,min,max&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'Grouped by a tag: Berlin days, the 25th has 25 hours (100 readings a sensor)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&groupBy=tag.site&window=day&tz=Europe/Berlin&fns=count,avg&from=2026-10-23T22:00:00Z&to=2026-10-26T23:00:00Z'
EOF
ex 'Grouped by two tags, one that no reading has (its key is `null`); `tag[site]` is `tag.site`' <<'EOF'
curl -s -g -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&tag[site]=south&groupBy=tag.site,tag.floor&window=month&fns=count&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z'
EOF
ex 'Berlin hours around the change: 02:00 local happens twice (00:00Z and 01:00Z)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=hour&tz=Europe/Berlin&fns=count,first,last&from=2026-10-24T23:00:00Z&to=2026-10-25T03:00:00Z'
EOF
ex 'Berlin weeks (ISO, from Monday; the second starts at 23:00Z, after the change)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=week&tz=Europe/Berlin&fns=count&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'A month in Berlin starts at 22:00Z the day before' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=month&tz=Europe/Berlin&fns=count,avg&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z'
EOF
ex 'Kolkata days start at 18:30Z' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=day&tz=Asia/Kolkata&fns=count&from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z'
EOF
ex 'A fixed window (`6h`, aligned to the UTC epoch)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=6h&fns=count,avg&from=2026-10-23T00:00:00Z&to=2026-10-24T00:00:00Z'
EOF
ex 'An unaligned `from`: the first bucket keeps its own start (00:00Z) and counts only the readings from 00:10Z' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=30m&fns=count,first&from=2026-10-23T00:10:00Z&to=2026-10-23T01:00:00Z'
EOF
ex 'A sub-minute window (`30s`, from raw readings)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-1&window=30s&fns=count,avg&from=2026-10-23T00:00:00Z&to=2026-10-23T00:31:00Z'
EOF
ex 'Every function: first, last, spread, stddev, percentiles' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=pump-1&window=day&fns=count,sum,avg,min,max,first,last,spread,stddev,p50,p95,p99.9&from=2026-10-23T00:00:00Z&to=2026-10-24T00:00:00Z'
EOF
for fill in none null zero previous linear; do
  ex "\`fill=$fill\` over boiler-2's gap (6h windows, one trailing bucket after the data)" <<EOF
curl -s -H "Authorization: Bearer \$FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&sensorId=boiler-2&window=6h&fns=count,avg&fill=$fill&from=2026-10-24T06:00:00Z&to=2026-10-27T06:00:00Z'
EOF
done
ex 'CSV with `Accept: text/csv`' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'Accept: text/csv' 'localhost:3000/v2/aggregates?metric=temperature&groupBy=tag.site&window=day&tz=Europe/Berlin&fns=count,avg,p95&from=2026-10-23T22:00:00Z&to=2026-10-26T23:00:00Z'
EOF
ex 'CSV with `format=csv`, grouped by `sensorId` and `metric`' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature,pressure&sensorId=pump-1&window=day&fns=count,min,max&format=csv&from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z'
EOF

echo '## `GET /v1/series`'
echo
ex 'The catalog, two at a time' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v1/series?metric=temperature&limit=2'
EOF
next=$(curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" "$FUNNEL_URL/v1/series?metric=temperature&limit=2" | sed -n 's/.*"next":"\([^"]*\)".*/\1/p')
ex 'The next page: `next` as `cursor`' <<EOF
curl -s -H "Authorization: Bearer \$FUNNEL_TOKEN" 'localhost:3000/v1/series?metric=temperature&limit=2&cursor=$next'
EOF
ex 'Filtered by prefix and tag' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v1/series?sensorPrefix=pump-&tag.site=south'
EOF

echo '## `GET /v1/points`'
echo
ex 'NDJSON, three readings a page; `x-next-cursor` holds the next page' raw <<'EOF'
curl -s -i -H "Authorization: Bearer $FUNNEL_TOKEN" -H 'Accept: application/x-ndjson' 'localhost:3000/v1/points?sensorId=boiler-2&metric=temperature&from=2026-10-24T11:00:00Z&to=2026-10-25T13:00:00Z&limit=3'
EOF
cursor=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $FUNNEL_TOKEN" "$FUNNEL_URL/v1/points?sensorId=boiler-2&metric=temperature&from=2026-10-24T11:00:00Z&to=2026-10-25T13:00:00Z&limit=3" | tr -d '\r' | sed -n 's/^x-next-cursor: //Ip')
ex 'The next page (across the gap)' raw <<EOF
curl -s -i -H "Authorization: Bearer \$FUNNEL_TOKEN" -H 'Accept: application/x-ndjson' 'localhost:3000/v1/points?sensorId=boiler-2&metric=temperature&from=2026-10-24T11:00:00Z&to=2026-10-25T13:00:00Z&limit=3&cursor=$cursor'
EOF
ex 'CSV (`format=csv`)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v1/points?sensorId=pump-1&metric=temperature&from=2026-10-23T00:00:00Z&to=2026-10-23T01:00:00Z&format=csv'
EOF

echo '## `GET /v1/aggregates` (the v1 contract)'
echo
ex 'One series, fixed windows, the five v1 functions' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v1/aggregates?sensorId=boiler-1&metric=temperature&window=day&from=2026-10-23T00:00:00Z&to=2026-10-25T00:00:00Z'
EOF

echo '## Refusals'
echo
ex 'An unknown `tz`' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=day&tz=Mars/Olympus&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex '`p101` and `p0`' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=day&fns=p101,p0&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'An unknown function, window, fill mode and `groupBy` field' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=fortnight&fns=median&fill=cubic&groupBy=site&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'An unknown parameter' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=day&limit=5&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex '`from` ≥ `to`' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=day&from=2026-10-27T00:00:00Z&to=2026-10-23T00:00:00Z'
EOF
ex 'An instant a `Date` cannot hold (`from=8640000000000001`)' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=day&from=8640000000000001&to=8640000000000002'
EOF
ex 'The same on v1' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v1/aggregates?sensorId=boiler-1&metric=temperature&window=day&from=8640000000000001&to=8640000000000002'
EOF
ex 'More than `MAX_SERIES_PER_QUERY` (1,000) series: the 1,001 fleet sensors' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=humidity&window=day&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'More than `MAX_POINTS_PER_QUERY` (100,000) series × buckets: 3 series × 44,640 minutes' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&window=minute&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z'
EOF
ex 'More raw readings to scan than `MAX_RAW_READINGS_PER_QUERY` (500 here): 1,056 readings in 30s windows' <<'EOF'
curl -s -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=temperature&groupBy=none&window=30s&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
ex 'Every slot taken (`MAX_CONCURRENT_QUERIES=1`, `QUERY_QUEUE_WAIT_MS=0` here): 503 with `Retry-After`' raw <<'EOF'
for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} retry-after=%header{retry-after}\n' -H "Authorization: Bearer $FUNNEL_TOKEN" 'localhost:3000/v2/aggregates?metric=humidity&sensorPrefix=fleet-0&window=hour&fns=count,p95&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z' & done; wait
EOF
ex 'No token' <<'EOF'
curl -s 'localhost:3000/v2/aggregates?metric=temperature&window=day&from=2026-10-23T00:00:00Z&to=2026-10-27T00:00:00Z'
EOF
