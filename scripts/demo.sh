#!/usr/bin/env bash
# Installs everything, prepares the database with the demo city (Los Angeles unless
# GEO311_CITY says otherwise) and serves the app on http://127.0.0.1:${PORT:-5000} as
# production would: gunicorn with gunicorn.conf.py (2 x cores + 1 workers unless
# WEB_CONCURRENCY says otherwise; the master owns the embedded database) and production
# settings. For development, `.venv/bin/python -m flask --app app run` instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
mkdir -p var
flask() { .venv/bin/python -m flask --app app "$@"; }

# Production settings: a secret key made once and kept in var/ (git-ignored, mode 600)
# unless SECRET_KEY is set. The demo is plain http on this machine only, so the session
# cookie cannot be Secure (a browser would not send it back, and no one could log in).
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s var/secret-key ] ||
    (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_hex(32))' > var/secret-key)
  SECRET_KEY="$(cat var/secret-key)"
fi
export SECRET_KEY GEO311_ENV=production GEO311_SECURE_COOKIES="${GEO311_SECURE_COOKIES:-0}"

flask db upgrade
flask boundaries load-city
flask addresses load --if-changed
flask services sync
flask requests import --if-configured
# The history's open requests are long past their due dates (2017 and 2020): escalate them, so that the
# supervisors' Escalations list has something to show (once: an escalated request is not escalated again).
flask requests escalate --include-imported
# A first administrator for the demo, once: its password is printed and kept in var/ (git-ignored).
if [ -z "$(flask users list)" ]; then
  password="$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(15))')"
  printf '%s\n' "$password" | flask users create-admin admin --name "Demo administrator" --password-stdin
  (umask 077; printf '%s\n' "$password" > var/demo-admin-password)
fi
[ -f var/demo-admin-password ] && echo "==> staff login: admin / $(cat var/demo-admin-password) (kept in var/demo-admin-password)"
echo "==> serving ${GEO311_CITY:-la} on http://127.0.0.1:${PORT:-5000} with gunicorn (Ctrl-C stops the app and its database)"
exec .venv/bin/python -m gunicorn --bind "127.0.0.1:${PORT:-5000}"
