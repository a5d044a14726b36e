#!/usr/bin/env bash
# Fuzz the agent for a bounded time: each target in fuzz/ (cargo-fuzz, libFuzzer) runs for
# SECONDS (default 30), seeded from fuzz/corpus/<target>/. Exits non-zero when any target
# crashes (panic, abort, timeout, out of memory); the input that did it is in
# fuzz/artifacts/<target>/ and is replayed with `scripts/fuzz.sh --replay <file>`.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh --replay fuzz/artifacts/<target>/crash-<hash>
#
# Works with a stable toolchain only: cargo-fuzz passes nightly `-Z` flags, which stable rustc
# accepts under RUSTC_BOOTSTRAP=1, and AddressSanitizer (nightly-only) is off by default (safe
# Rust: a panic is what we look for). FUZZ_SANITIZER=address turns it on where a nightly
# toolchain exists. Installs what is missing: cargo-fuzz (pinned, `cargo install --locked`) and
# a C++ compiler (libFuzzer is C++; `apt-get install g++` when run as root on Debian).
#
# Builds go to fuzz/target (FUZZ_TARGET_DIR to change), apart from the main target/, since fuzz
# builds use other compiler flags. New inputs found go to fuzz/target/corpus/<target>/, never
# into the committed seeds.
#
# Every input in fuzz/artifacts/<target>/ (each a crash found and fixed) is replayed first: a
# regression fails the run whatever the fuzzing finds.
#
# FUZZ_RUNS=N makes a run repeatable, for CI: N inputs per target from a fixed seed (FUZZ_SEED,
# default 1; FUZZ_RUNS_<target>=N for one target), starting from the committed seeds only, so the same commit always tries the same
# inputs and a red CI means this change broke something, not that the dice found an old bug.
# Without it a run is time-bounded and random: the way to find new bugs.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.1
ALL_TARGETS=(qdrant_responses config_loader)
SANITIZER=${FUZZ_SANITIZER:-none}
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/fuzz/target}
export RUSTC_BOOTSTRAP=1

log() { echo "fuzz: $*"; }

# --- tools ---
if [ "$(cargo fuzz --version 2>/dev/null || true)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  log "cargo install cargo-fuzz --locked --version $CARGO_FUZZ_VERSION"
  started=$SECONDS
  cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  log "cargo-fuzz installed in $((SECONDS - started)) s"
fi
if ! command -v c++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing a C++ compiler (libFuzzer): apt-get install g++"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq g++ >/dev/null
  else
    log "no C++ compiler (c++) found: install g++ (libFuzzer is built from C++)" >&2
    exit 1
  fi
fi

# --- replay one input ---
if [ "${1:-}" = "--replay" ]; then
  input=${2:?usage: scripts/fuzz.sh --replay fuzz/artifacts/<target>/<file>}
  target=$(basename "$(dirname "$input")")
  input=$(realpath "$input")
  cd fuzz
  # Known panics are skipped while fuzzing (fuzz/fuzz_targets/*.rs); a replay lets them through.
  FUZZ_KNOWN_PANICS=hit exec cargo fuzz run -s "$SANITIZER" "$target" "$input"
fi

seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

cd fuzz
log "cargo fuzz build -s $SANITIZER (${targets[*]})"
started=$SECONDS
for target in "${targets[@]}"; do
  cargo fuzz build -s "$SANITIZER" "$target"
done
log "built in $((SECONDS - started)) s"

failed=()
for target in "${targets[@]}"; do
  mkdir -p "artifacts/$target"
  out="$CARGO_TARGET_DIR/fuzz-$target.log"
  # Regressions first: every crash ever committed must now pass.
  mapfile -t known < <(find "artifacts/$target" -type f | sort)
  if [ ${#known[@]} -gt 0 ]; then
    if cargo fuzz run -s "$SANITIZER" "$target" "${known[@]}" -- -timeout=10 >"$out.replay" 2>&1; then
      log "$target: ${#known[@]} committed crash inputs replayed, none crashes"
    else
      log "$target: REGRESSION — a committed crash input crashes again (log: $out.replay)" >&2
      grep -E -A25 "panicked at|ERROR: libFuzzer|Running: " "$out.replay" | head -60 >&2 || tail -40 "$out.replay" >&2
      failed+=("$target")
      continue
    fi
  fi
  if [ -n "${FUZZ_RUNS:-}" ]; then
    work=$(mktemp -d)
    override="FUZZ_RUNS_$target"
    runs=${!override:-$FUZZ_RUNS}
    budget=(-runs="$runs" -seed="${FUZZ_SEED:-1}")
    log "$target: $runs inputs, seed ${FUZZ_SEED:-1} (log: $out)"
  else
    work="$CARGO_TARGET_DIR/corpus/$target"
    budget=(-max_total_time="$seconds")
    log "$target: ${seconds} s (log: $out)"
  fi
  mkdir -p "$work"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: memory blow-up is a crash.
  # The first corpus folder receives new inputs; the committed seeds are only read.
  if cargo fuzz run -s "$SANITIZER" "$target" "$work" "corpus/$target" -- \
    "${budget[@]}" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$out" 2>&1; then
    status=ok
  else
    status=CRASH
    failed+=("$target")
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
  edges=$(grep -o 'cov: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
  log "$target: $status — ${runs:-?} runs, ${rate:-?} exec/s, ${edges:-?} coverage edges"
  [ -z "${FUZZ_RUNS:-}" ] || rm -rf "$work"
  if [ "$status" = CRASH ]; then
    # The panic message, the backtrace head and libFuzzer's verdict.
    grep -E -A25 "panicked at|==[0-9]+== ERROR|ERROR: libFuzzer|SUMMARY" "$out" | head -60 >&2 || tail -40 "$out" >&2
    ls -1 "artifacts/$target" >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  log "crashed: ${failed[*]} (inputs in fuzz/artifacts/; replay: scripts/fuzz.sh --replay <file>)" >&2
  exit 1
fi
if [ -n "${FUZZ_RUNS:-}" ]; then
  log "no crash in the inputs given (FUZZ_RUNS=$FUZZ_RUNS)"
else
  log "no crash in ${seconds} s per target"
fi
