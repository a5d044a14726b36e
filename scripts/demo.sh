#!/usr/bin/env bash
# See it work in a minute, without Docker: a RECORDED Qdrant node (tests/fixtures, replayed by
# examples/replay.rs) is polled by the agent, which pushes OTLP to the OpenTelemetry Collector
# running the shipped otel-collector/config.yaml, scraped by Prometheus 3 running the shipped
# prometheus/prometheus.yml and rules — the same chain the end-to-end test runs (the Collector
# and Prometheus built from their Go modules by scripts/fetch-e2e-servers.sh). Prints what
# landed; at a terminal it then leaves Prometheus up to explore until Ctrl-C, otherwise (or with
# DEMO_KEEP=0) it stops. DEMO_KEEP=1 keeps it up regardless.
# Fails loudly (non-zero, with the logs) when a process dies or nothing reaches Prometheus.
# `make run` is the real thing against a live Qdrant.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/fetch-e2e-servers.sh >/dev/null
cargo build --release --quiet --bin qdrant-otel-agent --example replay
release="${CARGO_TARGET_DIR:-target}/release"
bin=target/e2e-bin
work=target/demo
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "demo: FAILED: $1" >&2
  shift
  for log in "$@"; do
    echo "---- $log ----" >&2
    tail -n 40 "$log" >&2 || true
  done
  exit 1
}
# alive PID NAME LOG: fail with the process's log when it has exited.
alive() { kill -0 "$1" 2>/dev/null || fail "$2 exited" "$3"; }

QDRANT=127.0.0.1:16333; PROM=127.0.0.1:9091
"$release/examples/replay" qdrant-1.18.3/single "$QDRANT" 2>"$work/replay.log" & replay=$!; pids+=("$replay")
# The shipped Collector config, its addresses set through the variables it reads.
OTLP_GRPC_ENDPOINT=127.0.0.1:14317 OTLP_HTTP_ENDPOINT=127.0.0.1:14318 \
  QDRANT_SCRAPE_TARGETS="[\"$QDRANT\"]" QDRANT_SCRAPE_INTERVAL=5s \
  PROMETHEUS_EXPORTER_ENDPOINT=127.0.0.1:18889 QDRANT_METRICS_EXPORTER_ENDPOINT=127.0.0.1:18890 \
  HEALTH_CHECK_ENDPOINT=127.0.0.1:23133 OTELCOL_METRICS_PORT=18888 \
  "$bin/otelcol" --config=otel-collector/config.yaml >"$work/otelcol.log" 2>&1 & otelcol=$!; pids+=("$otelcol")
# The shipped Prometheus config, scraping this Collector every 5 s.
sed -e 's#otel-collector:8889#127.0.0.1:18889#; s#otel-collector:8890#127.0.0.1:18890#' \
    -e 's#scrape_interval: 15s#scrape_interval: 5s#' \
    -e "s#  - rules/\*.yml#  - $PWD/prometheus/rules/*.yml#" prometheus/prometheus.yml > "$work/prometheus.yml"
"$bin/prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="$PROM" 2>"$work/prometheus.log" & prometheus=$!; pids+=("$prometheus")
sleep 2
alive "$replay" "the recorded Qdrant (examples/replay)" "$work/replay.log"
alive "$otelcol" "the OpenTelemetry Collector" "$work/otelcol.log"
alive "$prometheus" "Prometheus" "$work/prometheus.log"

echo "demo: polling the recorded node (RECORDED DATA) every 2s for 15s..."
QDRANT_URL="http://$QDRANT" QDRANT_OTEL_POLL__INTERVAL=2s \
  OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:14318" QDRANT_OTEL_LOG__LEVEL=warn \
  "$release/qdrant-otel-agent" 2>"$work/agent.log" & agent=$!; pids+=("$agent")
sleep 3
alive "$agent" "the agent" "$work/agent.log"
sleep 12
alive "$agent" "the agent" "$work/agent.log"

# query EXPR: print each series of the instant query as `name{labels} = value`.
query() {
  python3 - "$1" "$PROM" <<'PY'
import json, sys, urllib.parse, urllib.request
expr, prom = sys.argv[1], sys.argv[2]
url = f"http://{prom}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
for r in json.load(urllib.request.urlopen(url))["data"]["result"]:
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(r["metric"].items()) if k != "__name__")
    print(f"  {r['metric'].get('__name__', expr)}{{{labels}}} = {r['value'][1]}")
PY
}
echo "demo: what landed in Prometheus:"
up=$(query 'qdrant_up')
[ -n "$up" ] || fail "qdrant_up is not in Prometheus: nothing arrived from the agent" \
  "$work/agent.log" "$work/otelcol.log" "$work/prometheus.log"
echo "$up"
grep -q ' = 1$' <<<"$up" || fail "qdrant_up is not 1: the agent could not read the recorded node" "$work/agent.log"
query 'qdrant_collection_points'
query 'qdrant_collection_status == 1'
query 'count({job="qdrant"})'
echo
echo "demo: OK. Logs in $work/."
keep=${DEMO_KEEP:-}
if [ -z "$keep" ]; then
  if [ -t 0 ]; then keep=1; else keep=0; fi
fi
if [ "$keep" = 1 ]; then
  trap 'exit 0' INT TERM
  echo "demo: explore at http://$PROM/graph (e.g. qdrant_collection_indexed_vectors) and the rules at http://$PROM/alerts. Ctrl-C to stop."
  wait "$agent"
fi
