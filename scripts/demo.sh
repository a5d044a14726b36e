#!/usr/bin/env bash
# See it work in a minute, without Docker: a RECORDED Qdrant node (tests/fixtures, replayed by
# examples/replay.rs) is polled by the agent, which pushes OTLP to vmagent → Prometheus — the
# same chain the end-to-end test uses. Prints what landed and leaves Prometheus up to explore
# until Ctrl-C. `make run` is the real thing against a live Qdrant.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/fetch-e2e-servers.sh >/dev/null
cargo build --release --quiet --bin qdrant-otel-agent --example replay
bin=target/e2e-bin
work=target/demo
rm -rf "$work"; mkdir -p "$work"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

QDRANT=127.0.0.1:16333; PROM=127.0.0.1:9091; VMAGENT=127.0.0.1:8429
target/release/examples/replay qdrant-1.18.3/single "$QDRANT" 2>"$work/replay.log" & pids+=($!)
printf 'global:\n  scrape_interval: 15s\n' > "$work/prometheus.yml"
"$bin/prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="$PROM" --web.enable-remote-write-receiver 2>"$work/prometheus.log" & pids+=($!)
printf 'scrape_configs:\n  - job_name: qdrant\n    scrape_interval: 5s\n    static_configs:\n      - targets: ["%s"]\n' "$QDRANT" > "$work/scrape.yml"
"$bin/vmagent" -httpListenAddr="$VMAGENT" -opentelemetry.usePrometheusNaming \
  -remoteWrite.url="http://$PROM/api/v1/write" -remoteWrite.forcePromProto \
  -remoteWrite.relabelConfig=tests/e2e/vmagent-relabel.yml -remoteWrite.tmpDataPath="$work/vmagent" \
  -remoteWrite.flushInterval=1s -promscrape.config="$work/scrape.yml" -loggerLevel=WARN 2>"$work/vmagent.log" & pids+=($!)
sleep 2
echo "demo: polling the recorded node (RECORDED DATA) every 2s for 15s..."
QDRANT_URL="http://$QDRANT" QDRANT_OTEL_POLL__INTERVAL=2s \
  QDRANT_OTEL_OTLP__ENDPOINT="http://$VMAGENT/opentelemetry" QDRANT_OTEL_LOG__LEVEL=warn \
  target/release/qdrant-otel-agent & pids+=($!)
sleep 15

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
query 'qdrant_up'
query 'qdrant_collection_points'
query 'qdrant_collection_status == 1'
query 'count({job="qdrant"})'
echo
echo "demo: explore at http://$PROM/graph  (e.g. qdrant_collection_indexed_vectors). Ctrl-C to stop."
wait
