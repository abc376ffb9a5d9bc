#!/usr/bin/env bash
# Installs everything (with Chromium for the browser tests), runs the gates (lint, import
# layers, types, the unit tier) and then the whole test suite against a real PostGIS: the
# embedded one, or DATABASE_URL's server. Each gate stops the run at its first failure.
# Arguments are passed to the final pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
GEO311_WITH_BROWSER=1 scripts/install.sh

gate() {
  local name=$1; shift
  printf '==> gate: %s\n' "$name"
  "$@" || { printf 'test.sh: the %s gate failed (%s); fix it and run scripts/test.sh again.\n' "$name" "$*" >&2; exit 1; }
}

# The unit tier: tests that need no database. pytest's 5 ("no tests collected") is a pass.
unit_tier() {
  local rc=0
  .venv/bin/python -m pytest -m unit -q -p no:cacheprovider || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 5 ]
}

# mypy takes the longest of the gates and needs nothing of the others: it runs on the second
# core beside them and the unit tier, and its verdict is read after theirs.
mypy_log=$(mktemp)
.venv/bin/mypy > "$mypy_log" 2>&1 &
mypy_pid=$!
trap 'kill "$mypy_pid" 2>/dev/null || true; rm -f "$mypy_log"' EXIT

gate "lint (ruff check)" .venv/bin/ruff check --quiet
gate "format (ruff format --check)" .venv/bin/ruff format --check --quiet
gate "import layers (lint-imports)" .venv/bin/lint-imports
gate "unit tests (pytest -m unit)" unit_tier
mypy_verdict() { local rc=0; wait "$mypy_pid" || rc=$?; cat "$mypy_log"; return "$rc"; }
gate "types (mypy)" mypy_verdict

# The rest of the suite (the unit tier has just run), on one pytest-xdist worker per core
# (GEO311_TEST_WORKERS overrides; 0 runs in this process): each worker has its own session
# database in the one embedded cluster, and takes whole test files. The 30 slowest steps are listed
# at the end, so that a slower suite says where.
workers=${GEO311_TEST_WORKERS:-$(nproc 2>/dev/null || echo 2)}
printf '==> the rest of the test suite (%s workers)\n' "$workers"
.venv/bin/python -m pytest -m "not unit and not exclusive" -n "$workers" --dist loadfile --durations=30 "$@"
# Tests that restart the shared embedded server run alone, once the workers are done.
printf '==> the tests that restart the database server (alone)\n'
exclusive_rc=0
.venv/bin/python -m pytest -m "exclusive" "$@" || exclusive_rc=$?
[ "$exclusive_rc" = 0 ] || [ "$exclusive_rc" = 5 ] || exit "$exclusive_rc"
