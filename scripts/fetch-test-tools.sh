#!/usr/bin/env bash
# Install the third-party tools the test suite runs besides the e2e servers: kubernetes-validate
# (PyPI), which tests/kubernetes_manifests.rs runs over deploy/kubernetes/ against the
# Kubernetes 1.30 schemas it bundles. Pinned; idempotent: does nothing when that version is
# already installed.
#
# `pip install` into the current Python first. Where that Python refuses (a Debian system
# Python is "externally managed", PEP 668) or is not writable, the package goes into
# target/test-tools/python instead, with a launcher target/test-tools/bin/kubernetes-validate,
# which the test looks for before PATH. Nothing system-wide is touched in that case.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBERNETES_VALIDATE_VERSION=1.34.1
local_bin=target/test-tools/bin/kubernetes-validate

for candidate in "$local_bin" kubernetes-validate; do
  if [ "$("$candidate" --version 2>/dev/null || true)" = "$KUBERNETES_VALIDATE_VERSION" ]; then
    echo "fetch-test-tools: kubernetes-validate $KUBERNETES_VALIDATE_VERSION already installed ($candidate)"
    exit 0
  fi
done

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
  echo "fetch-test-tools: no python3 found; install Python 3 and pip" >&2
  exit 1
fi
pip=("$python" -m pip install --quiet --disable-pip-version-check)
echo "fetch-test-tools: pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
if "${pip[@]}" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" 2>/dev/null \
    && [ "$(kubernetes-validate --version 2>/dev/null || true)" = "$KUBERNETES_VALIDATE_VERSION" ]; then
  echo "fetch-test-tools: done ($(command -v kubernetes-validate))"
  exit 0
fi

echo "fetch-test-tools: installing into target/test-tools/python instead"
rm -rf target/test-tools
mkdir -p target/test-tools/bin
"${pip[@]}" --target target/test-tools/python "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
cat > "$local_bin" <<LAUNCHER
#!/bin/sh
# Written by scripts/fetch-test-tools.sh.
PYTHONPATH="\$(dirname "\$0")/../python\${PYTHONPATH:+:\$PYTHONPATH}" exec "$python" -c 'import sys; from kubernetes_validate.__main__ import main; sys.exit(main())' "\$@"
LAUNCHER
chmod +x "$local_bin"
"$local_bin" --version
echo "fetch-test-tools: done ($local_bin)"
