#!/usr/bin/env bash
# Installs the npm dependencies (only when package-lock.json changed since the last install) and
# builds the renderer (only when its sources changed). Everything comes from the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 ELECTRON_SKIP_BINARY_DOWNLOAD=1
stamp=node_modules/.flashline-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "[setup] npm ci (first run compiles better-sqlite3, about a minute)"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

renderer_stamp=dist/renderer/.source-stamp
source_hash=$( (find renderer common -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' \) -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
if [ ! -f "$renderer_stamp" ] || [ "$(cat "$renderer_stamp")" != "$source_hash" ]; then
  echo "[setup] building the renderer"
  npx vite build --config renderer/vite.config.ts --logLevel warn
  echo "$source_hash" > "$renderer_stamp"
fi
