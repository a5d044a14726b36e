#!/usr/bin/env bash
# Build the real third-party servers the end-to-end and rule tests run, from their Go modules at
# the versions pinned in tests/e2e/servers/go.mod (compose.yaml and deploy/ pin their images to
# the same releases; tests/stack_files.rs checks it):
#   otelcol     an OpenTelemetry Collector with exactly the components the shipped configs use
#               (tests/e2e/servers/otelcol/main.go; contrib release in go.mod)
#   prometheus  Prometheus 3 (github.com/prometheus/prometheus/cmd/prometheus)
#   promtool    its rule and metrics checker
# into target/e2e-bin/. Needs Go 1.21 or newer (a Go older than go.mod's fetches the right
# toolchain from the Go module proxy by itself). A cold build takes about 6 minutes on 2 cores
# and ~2 GB under Go's caches ($(go env GOMODCACHE), $(go env GOCACHE)); afterwards the script
# does nothing until go.mod, go.sum, the Collector's main.go or this script change (a stamp
# file holds their hash).
set -euo pipefail
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
cd "$(dirname "$self")/.."
src=tests/e2e/servers
out=target/e2e-bin
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  echo "fetch-e2e-servers: Go is not installed: install Go 1.21 or newer (https://go.dev/doc/install)" >&2
  exit 1
fi
stamp=$(cat "$src/go.mod" "$src/go.sum" "$src/otelcol/main.go" "$self" | sha256sum | cut -d' ' -f1)
if [ -x "$out/otelcol" ] && [ -x "$out/prometheus" ] && [ -x "$out/promtool" ] \
   && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "fetch-e2e-servers: $out is up to date (otelcol, prometheus, promtool)"
  exit 0
fi
mkdir -p "$out"
rm -f "$out/.stamp"
# Prometheus 3.X.Y is the Go module version v0.3XX.Y: 0.314.0 → 3.14.0.
module_version=$(cd "$src" && go list -m -f '{{.Version}}' github.com/prometheus/prometheus)
prometheus_version=$(echo "$module_version" | sed -E 's/^v0\.3([0-9]{2})\.([0-9]+).*/3.\1.\2/; s/^3\.0([0-9])/3.\1/')
ldflags="-s -w -X github.com/prometheus/common/version.Version=$prometheus_version"
ldflags+=" -X github.com/prometheus/common/version.Branch=module-$module_version"
start=$(date +%s)
echo "fetch-e2e-servers: building otelcol, prometheus $prometheus_version and promtool from Go modules (a cold build takes ~6 min)"
(cd "$src" && go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "../../../$out/" ./otelcol \
   github.com/prometheus/prometheus/cmd/prometheus github.com/prometheus/prometheus/cmd/promtool)
echo "$stamp" > "$out/.stamp"
"$out/otelcol" --version
"$out/prometheus" --version 2>&1 | head -n1
echo "fetch-e2e-servers: done in $(( $(date +%s) - start )) s ($out)"
