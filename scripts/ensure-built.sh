#!/bin/sh
# Installs npm packages when missing or out of date with the lockfile, then builds. Used by the README's
# two commands so they work on a fresh clone.
set -e
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci"
  npm ci --no-audit --no-fund
fi
echo "[setup] npm run build"
npm run build --silent
