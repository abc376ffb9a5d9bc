#!/usr/bin/env bash
# Installs everything geo311 needs on a Debian or Ubuntu machine with Python 3.11+:
# PostgreSQL + PostGIS (for the embedded database), Node.js/npm (front-end packages),
# the Python virtual environment in .venv (from requirements.lock), and the front-end packages
# in node_modules (from package-lock.json).
# With GEO311_WITH_BROWSER=1 it also installs Chromium for the browser tests.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

APT_UPDATED=0
apt_install() {
  [ "$#" -gt 0 ] || return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    die "this is not a Debian/Ubuntu system; install these with your package manager and run me again: $*
(or set DATABASE_URL to a PostgreSQL server with PostGIS, and skip the database packages)"
  fi
  if ! as_root true; then
    die "installing system packages needs root; run as root, give this user sudo, or run:
  sudo apt-get update && sudo apt-get install -y $*"
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The newest PostgreSQL major version installed the Debian way, if any.
pg_major() {
  ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/bin/pg_ctl#\1#' | sort -n | tail -n 1
}

# --- Python ----------------------------------------------------------------------------
PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null 2>&1 || apt_install python3 python3-venv
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "geo311 needs Python 3.11 or newer; $("$PYTHON" --version 2>&1) was found (set PYTHON=/path/to/python3.11)."

# --- PostgreSQL + PostGIS (only for the embedded database) ------------------------------
if [ -z "${DATABASE_URL:-}" ]; then
  if [ -z "$(pg_major)" ]; then
    # The embedded cluster is ours: ask Debian not to create and start its own "main" cluster.
    apt_install postgresql-common
    if [ -f /etc/postgresql-common/createcluster.conf ] && ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
      echo 'create_main_cluster = false' | as_root tee -a /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    apt_install postgresql
  fi
  MAJOR=$(pg_major)
  [ -n "$MAJOR" ] || die "PostgreSQL did not install under /usr/lib/postgresql; install it by hand or set DATABASE_URL."
  [ -f "/usr/share/postgresql/$MAJOR/extension/postgis.control" ] || apt_install "postgresql-$MAJOR-postgis-3"
  [ -f "/usr/share/postgresql/$MAJOR/extension/pg_trgm.control" ] || apt_install postgresql-contrib
fi

# --- Node.js / npm (front-end packages) ----------------------------------------------------
command -v npm >/dev/null 2>&1 || apt_install nodejs npm

# --- Chromium for the browser tests ----------------------------------------------------------
if [ "${GEO311_WITH_BROWSER:-0}" = 1 ] && ! [ -x /usr/bin/chromium ]; then
  apt_install chromium fonts-liberation
fi

# --- Python packages ---------------------------------------------------------------------------
if ! [ -x .venv/bin/python ]; then
  say "creating .venv"
  "$PYTHON" -m venv .venv 2>/dev/null || { rm -rf .venv; apt_install python3-venv; "$PYTHON" -m venv .venv; }
fi
# From the lock, as `npm ci` does: exactly the pinned versions, each checked against its hash
# (`make lock` writes requirements.lock from pyproject.toml); then geo311 itself, editable,
# without resolving anything. Done again whenever the lock or pyproject.toml changes.
[ -f requirements.lock ] || die "requirements.lock is missing; write it with \`make lock\` (uv pip compile)."
stamp=.venv/.installed-$(cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if ! [ -f "$stamp" ]; then
  say "installing Python packages from requirements.lock (log: var/pip-install.log)"
  mkdir -p var
  { .venv/bin/python -m pip install --upgrade pip &&
    .venv/bin/python -m pip install --require-hashes -r requirements.lock &&
    .venv/bin/python -m pip install --no-deps -e .; } > var/pip-install.log 2>&1 ||
    { tail -n 30 var/pip-install.log >&2; die "installing the Python packages failed (full log: var/pip-install.log)"; }
  rm -f .venv/.installed-* && touch "$stamp"
fi

# --- Front-end packages (served by the app; never committed) ------------------------------------
if ! [ -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.geo311-lock; then
  say "installing front-end packages"
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.geo311-lock
fi

# --- The interface's translations: each catalogue's .po compiled to the .mo the app reads (never committed) ---
for po in app/translations/*/LC_MESSAGES/messages.po; do
  [ -f "$po" ] || continue
  mo=${po%.po}.mo
  if ! [ -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    .venv/bin/pybabel compile --input-file "$po" --output-file "$mo" >/dev/null ||
      die "compiling the translations of $po failed (see the message above); fix the .po and run me again."
  fi
done

say "installed"
