#!/usr/bin/env bash
# `npm start`: set up, then start the station on its embedded default (local SQLite in the
# user-data folder, the local cloud service in-process, a demo product and batch, two virtual boards).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/flashline.mjs start "$@"
