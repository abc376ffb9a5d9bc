#!/usr/bin/env bash
# Installs everything (with Chromium for the browser tests) and runs the whole test
# suite against a real PostGIS: the embedded one, or DATABASE_URL's server.
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
GEO311_WITH_BROWSER=1 scripts/install.sh
exec .venv/bin/python -m pytest "$@"
