#!/bin/sh
# `npm test`: the whole test suite from a fresh clone: install, build (type-check), lint, then every unit and
# integration test. Optional Debian tools (dig) are installed when possible; tests that need them skip with
# a printed reason otherwise.
set -e
cd "$(dirname "$0")/.."
sh scripts/ensure-built.sh

echo "[test] lint (biome)"
npx --no-install biome check .

echo "[test] protocol (buf lint, format, breaking, generated code fresh)"
sh scripts/proto-check.sh

echo "[test] alerting rules (promtool check + unit tests)"
sh scripts/promtool-check.sh

if ! command -v dig >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing dnsutils for dig-based tests"
    (apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsutils >/dev/null 2>&1) \
      || echo "[test] could not install dnsutils; dig-based tests will skip"
  else
    echo "[test] dig not found and cannot install it (not root or no apt-get); dig-based tests will skip"
  fi
fi

FILES=$(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
echo "[test] node --test ($(echo "$FILES" | wc -l) files)"
# shellcheck disable=SC2086
exec node --test --test-reporter=spec --test-timeout=120000 $FILES
