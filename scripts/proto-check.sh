#!/bin/sh
# Protocol checks, offline: buf lint, buf format (OpenGSLB's own protos only; the vendored gRPC protos under
# proto/grpc are upstream files kept verbatim), buf breaking against proto/baseline.binpb, and freshness of the
# generated code in internal/gen. buf runs via `npx --no-install` so the local protoc-gen-es in
# node_modules/.bin is on PATH and nothing is fetched. Exits non-zero, with one line naming the failed check.
set -u
cd "$(dirname "$0")/.."

BUF="npx --no-install buf"
failed=0

fail() {
  echo "[proto-check] FAIL: $1" >&2
  failed=1
}

echo "[proto-check] buf lint"
$BUF lint || fail "buf lint reported problems (above)"

echo "[proto-check] buf format"
$BUF format --exit-code -d --path proto/opengslb \
  || fail "proto/opengslb is not formatted: run 'npx buf format -w --path proto/opengslb'"

echo "[proto-check] buf breaking against proto/baseline.binpb"
$BUF breaking --against proto/baseline.binpb \
  || fail "breaking change against proto/baseline.binpb (above): keep the wire format compatible or add a new package version"

echo "[proto-check] generated code is fresh"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/opengslb-proto-check.XXXXXX") || {
  fail "cannot create a temporary directory"
  exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# --output prefixes every plugin `out` in buf.gen.yaml, so internal/gen lands in $tmp/internal/gen.
if ! $BUF generate --output "$tmp"; then
  fail "buf generate failed (above)"
elif ! diff -rq "$tmp/internal/gen" internal/gen >/dev/null; then
  # Embedded descriptors are single long lines; the first lines of the diff are enough to see what moved.
  diff -r "$tmp/internal/gen" internal/gen | cut -c1-200 | head -n 40
  fail "internal/gen is stale or hand-edited (diff above): run 'npm run generate' and commit the result"
fi

if [ "$failed" -ne 0 ]; then
  exit 1
fi
echo "[proto-check] ok"
