#!/usr/bin/env bash
# Venture CRM: set up the test environment and run the whole suite.
#
#   ./run_tests.sh [pytest arguments]
#
# Creates/updates .venv with the test extra, installs what the tests need from Debian's packages
# when missing, then runs `ruff check`, `ruff format --check` and pytest (2 workers).
set -euo pipefail
cd "$(dirname "$0")"

./panel_serve.sh --install-only --extras test

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser); the
# live-database tests run Debian's sqlite3 command line as an operator would; the deployment
# tests put Debian's Caddy in front of the app with deploy/Caddyfile (on a machine with systemd,
# the package also enables its own caddy.service on port 80: `systemctl disable --now caddy`).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
# the container test builds and runs the Dockerfile with Podman (runc: see
# tests/deploy/prepare_container.sh) from a base image made with debootstrap
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the tests ..."
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q "${missing[@]}"
fi

# the container test's base image and wheels, fetched now so the test sends nothing off the box
tests/deploy/prepare_container.sh

echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .
echo "== pytest"
exec .venv/bin/python -m pytest -n 2 "$@"
