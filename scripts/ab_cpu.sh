#!/usr/bin/env bash
# Compare the CPU per poll of two (or more) agent binaries on a noisy machine: each runs in
# turn against the same scaled replay Qdrant (examples/serve_scaled.rs), round after round, so
# that the host's load falls on all of them alike. Prints CPU ms per poll, user + system, and
# minor page faults per poll, from /proc/PID/stat over 10 s at a 500 ms interval after a 2 s
# warm-up.
#
#   cargo build --release --example serve_scaled
#   scripts/ab_cpu.sh 1000 3 old/qdrant-otel-agent target/release/qdrant-otel-agent
set -euo pipefail
collections=$1 rounds=$2
shift 2
server=target/release/examples/serve_scaled
[ -x "$server" ] || { echo "build it first: cargo build --release --example serve_scaled" >&2; exit 2; }
addresses=$(mktemp)
"$server" "$collections" >"$addresses" &
server_pid=$!
trap 'kill $server_pid 2>/dev/null; rm -f "$addresses"' EXIT
sleep 3
# shellcheck disable=SC2046
export $(xargs <"$addresses")
export QDRANT_OTEL_POLL__INTERVAL=500ms QDRANT_OTEL_LOG__LEVEL=warn
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
faults() { awk '{print $10}' "/proc/$1/stat"; }
for round in $(seq "$rounds"); do
  for binary in "$@"; do
    "$binary" run >/dev/null 2>&1 &
    pid=$!
    sleep 2
    start=$(ticks $pid) start_faults=$(faults $pid)
    sleep 10
    end=$(ticks $pid) end_faults=$(faults $pid)
    kill -INT $pid
    wait $pid 2>/dev/null || true
    # 20 polls in 10 s; a tick is 10 ms.
    echo "round $round: $binary $(( (end - start) * 10 / 20 )) ms per poll," \
      "$(( (end_faults - start_faults) / 20 )) minor page faults per poll"
  done
done
