#!/bin/sh
# `npm run demo`: install, build, then run the demo (three local backends + a standalone opengslb).
set -e
cd "$(dirname "$0")/.."
sh scripts/ensure-built.sh
exec node scripts/demo.mjs
