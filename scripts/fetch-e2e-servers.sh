#!/usr/bin/env bash
# Fetch the real third-party servers the end-to-end test runs, without installing anything
# system-wide: Prometheus + promtool from Debian bookworm's `prometheus` package (2.42) and
# vmagent from Debian trixie's `victoria-metrics` package (1.112; bookworm's 1.79 has no OTLP
# receiver). The .debs are fetched with apt-get download and unpacked with dpkg -x into
# target/e2e-bin/. Idempotent: does nothing when the binaries are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/e2e-bin
if [ -x "$out/prometheus" ] && [ -x "$out/promtool" ] && [ -x "$out/vmagent" ]; then
  echo "fetch-e2e-servers: $out already has prometheus, promtool and vmagent"
  exit 0
fi
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The machine's own Debian mirror (the only package host it may reach), from active lines only.
mirror=$(grep -hE '^[[:space:]]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
  | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

# A throw-away apt configuration: both suites, our own lists and cache, nothing system-wide.
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
cat > "$work/sources.list" <<SOURCES
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main
SOURCES
apt_opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o "APT::Default-Release=")
echo "fetch-e2e-servers: apt-get update (private lists, $mirror bookworm + trixie)"
# -o APT::Sandbox::User=root: the private directories are not readable by _apt.
apt_opts+=(-o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update -qq
cd "$work"
echo "fetch-e2e-servers: downloading prometheus/bookworm and victoria-metrics/trixie"
apt-get "${apt_opts[@]}" download -qq prometheus/bookworm victoria-metrics/trixie
for deb in ./*.deb; do dpkg -x "$deb" "$work/root"; done
cd - >/dev/null
find_bin() { find "$work/root/usr/bin" "$work/root/usr/sbin" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1 || true; }
prometheus=$(find_bin prometheus); promtool=$(find_bin promtool)
vmagent=$(find_bin vmagent); [ -n "$vmagent" ] || vmagent=$(find_bin 'victoria-metrics-vmagent')
for pair in "prometheus:$prometheus" "promtool:$promtool" "vmagent:$vmagent"; do
  name=${pair%%:*}; path=${pair#*:}
  if [ -z "$path" ]; then echo "fetch-e2e-servers: $name not found in the packages" >&2; exit 1; fi
  cp "$path" "$out/$name"
done
"$out/prometheus" --version 2>&1 | head -n1
"$out/vmagent" -version 2>&1 | head -n1
echo "fetch-e2e-servers: done ($out)"
