#!/usr/bin/env bash
# `npm test`: set up (Debian packages, npm dependencies, renderer build) and run every test:
# type checks, the folder-boundary lint, unit/integration tests (vitest), end-to-end tests
# (Playwright in browser mode, Debian's Chromium). Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-debian-packages.sh || exit 1
bash scripts/setup.sh || exit 1

# The cloud's tests run against SQLite and PostgreSQL: start a throwaway cluster unless one is given.
started_pg=0
if [ -z "${FLASHLINE_TEST_PG_URL:-}" ]; then
  FLASHLINE_TEST_PG_URL=$(bash scripts/ensure-postgres.sh) || { echo "PostgreSQL could not be started (Debian package: postgresql)"; exit 1; }
  export FLASHLINE_TEST_PG_URL
  started_pg=1
fi

results=$(mktemp -d)
status=0
step() {
  local name=$1; shift
  echo "── $name"
  if "$@"; then echo "$name: ok" >> "$results/steps"; else echo "$name: FAILED" >> "$results/steps"; status=1; fi
}

step typecheck npm run --silent typecheck
step lint npx eslint --max-warnings 0 .
step unit npx vitest run --reporter=default --reporter=json --outputFile.json="$results/vitest.json"
step e2e env PLAYWRIGHT_JSON_OUTPUT_NAME="$results/playwright.json" npx playwright test --reporter=list,json

node scripts/summarize-tests.mjs "$results" || status=1
rm -rf "$results"
[ "$started_pg" = 1 ] && bash scripts/ensure-postgres.sh --stop
exit $status
