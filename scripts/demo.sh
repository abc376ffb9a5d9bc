#!/usr/bin/env bash
# Installs everything, prepares the database with the demo city (Los Angeles unless
# GEO311_CITY says otherwise) and serves the app on http://127.0.0.1:${PORT:-5000}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export FLASK_APP=app
.venv/bin/flask db upgrade
.venv/bin/flask boundaries load-city
.venv/bin/flask addresses load --if-changed
.venv/bin/flask services sync
.venv/bin/flask requests import --if-configured
# A first administrator for the demo, once: its password is printed and kept in var/ (git-ignored).
if [ -z "$(.venv/bin/flask users list)" ]; then
  password="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(15))')"
  printf '%s\n' "$password" | .venv/bin/flask users create-admin admin --name "Demo administrator" --password-stdin
  (umask 077; printf '%s\n' "$password" > var/demo-admin-password)
fi
[ -f var/demo-admin-password ] && echo "==> staff login: admin / $(cat var/demo-admin-password) (kept in var/demo-admin-password)"
echo "==> serving ${GEO311_CITY:-la} on http://127.0.0.1:${PORT:-5000} (Ctrl-C stops the app and its database)"
exec .venv/bin/flask run --host 127.0.0.1 --port "${PORT:-5000}"
