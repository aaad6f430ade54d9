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

# Browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser tests ..."
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q chromium
fi

echo "== ruff check"
.venv/bin/ruff check .
echo "== ruff format --check"
.venv/bin/ruff format --check .
echo "== pytest"
exec .venv/bin/python -m pytest -n 2 "$@"
