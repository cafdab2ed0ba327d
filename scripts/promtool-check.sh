#!/bin/sh
# Prometheus rules: `promtool check rules` (syntax, PromQL, templates) on deploy/prometheus/*.rules.yml, then the
# unit tests in deploy/prometheus/*.test.yml. promtool comes from Debian's `prometheus` package, installed here
# when missing and we are root with apt-get (no recommends, so no node exporter; installing starts no server
# in a container: no init system, policy-rc.d). Without promtool the check is skipped with a reason and exits
# 0; any rule or test failure exits 1. PROMTOOL=/path/to/promtool overrides the lookup.
set -u
cd "$(dirname "$0")/.."

PROMTOOL=${PROMTOOL:-promtool}

if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[promtool] installing Debian package prometheus for promtool"
    if ! (apt-get update -qq >/dev/null 2>&1 \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1); then
      echo "[promtool] skipped: promtool not installed (apt-get install prometheus failed)"
      exit 0
    fi
    if ! command -v "$PROMTOOL" >/dev/null 2>&1; then
      echo "[promtool] skipped: promtool not installed (package prometheus installed but $PROMTOOL not on PATH)"
      exit 0
    fi
  else
    echo "[promtool] skipped: promtool not installed (not root or no apt-get; install Debian package prometheus)"
    exit 0
  fi
fi

echo "[promtool] $("$PROMTOOL" --version 2>&1 | head -n 1)"
failed=0

echo "[promtool] check rules"
"$PROMTOOL" check rules deploy/prometheus/*.rules.yml || {
  echo "[promtool] FAIL: rule files are invalid (above)" >&2
  failed=1
}

echo "[promtool] test rules"
"$PROMTOOL" test rules deploy/prometheus/*.test.yml || {
  echo "[promtool] FAIL: rule unit tests failed (above)" >&2
  failed=1
}

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "[promtool] ok"
