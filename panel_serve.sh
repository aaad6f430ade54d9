#!/usr/bin/env bash
# Venture CRM: set up (first run) and serve at http://127.0.0.1:5006.
#
#   ./panel_serve.sh [--port N] [--host ADDR] [--demo]
#   ./panel_serve.sh --install-only [--extras test]   # only create/update .venv
#
# Creates .venv if missing, installs the pinned dependencies (again only when pyproject.toml
# changed), migrates $CRM_DATA_DIR/crm.db (default ./data/crm.db) and serves. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"

port=5006
host=127.0.0.1
demo=0
install_only=0
extras=""

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --host) host="${2:?--host needs an address}"; shift 2 ;;
    --host=*) host="${1#*=}"; shift ;;
    --demo) demo=1; shift ;;
    --install-only) install_only=1; shift ;;
    --extras) extras="${2:?--extras needs a name}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "Unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "--port must be a number, got '$port'" >&2; exit 2 ;; esac

find_python() {
  for candidate in python3 python3.13 python3.12 python3.11; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "Venture CRM needs Python 3.11 or newer (python3 --version says: $(python3 --version 2>&1))" >&2
  return 1
}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv ..."
    "$(find_python)" -m venv .venv
  fi
  # One stamp per install target (base, or an extra such as "test"), holding the hash of
  # pyproject.toml it was installed from; an extra's install also satisfies the base.
  local target="." stamp_file=.venv/.crm-installed
  if [ -n "$extras" ]; then
    target=".[$extras]"
    stamp_file=".venv/.crm-installed-$extras"
  fi
  local hash
  hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ "$(cat "$stamp_file" 2>/dev/null)" != "$hash" ]; then
    echo "Installing Venture CRM and its pinned dependencies ($target) ..."
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
    echo "$hash" > "$stamp_file"
    echo "$hash" > .venv/.crm-installed
  fi
}

ensure_venv
[ "$install_only" = 1 ] && exit 0

.venv/bin/crm init
[ "$demo" = 1 ] && .venv/bin/crm demo-data --if-empty
exec .venv/bin/python -m apps.serve --port "$port" --host "$host"
