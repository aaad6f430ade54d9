#!/usr/bin/env bash
# Set-up for tests/deploy/test_container.py, run by run_tests.sh before the suite: the things the
# container test needs from the network, fetched here so the test itself sends nothing off the
# machine (it builds with --network none).
#
#   * (Podman, runc -- crun refuses a host with hybrid cgroups -- and debootstrap come from
#     run_tests.sh's Debian packages)
#   * a Debian bookworm base image with python3 and its venv module, made with debootstrap and
#     imported as localhost/venture-crm-base:bookworm (the test machine reaches Debian's
#     mirror, not an image registry); kept between runs;
#   * a wheelhouse of the pinned dependencies (.cache/container-wheels), from pip's cache.
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE=localhost/venture-crm-base:bookworm
WHEELS=.cache/container-wheels

for tool in podman runc debootstrap; do  # installed by run_tests.sh
  command -v "$tool" >/dev/null 2>&1 || { echo "prepare_container.sh needs Debian's $tool (run_tests.sh installs it)" >&2; exit 1; }
done

if ! podman image exists "$BASE"; then
  echo "Making the container test's base image ($BASE) with debootstrap ..."
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase --include=python3,python3-venv bookworm "$root" \
    http://deb.debian.org/debian >/dev/null
  tar -C "$root" -c . | podman import --quiet - "$BASE" >/dev/null
fi

stamp="$WHEELS/.pyproject-sha256"
hash="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$hash" ]; then
  echo "Collecting the container test's wheels ..."
  rm -rf "$WHEELS" && mkdir -p "$WHEELS"
  .venv/bin/python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
    > "$WHEELS/requirements.txt"
  # and what `pip install -e .` builds the project with (pyproject.toml's build-system)
  printf 'setuptools>=77\nwheel\n' >> "$WHEELS/requirements.txt"
  # for the base image's Python: bookworm's 3.11.2 (some releases need a newer 3.11.x)
  if ! .venv/bin/python -m pip download --quiet --only-binary=:all: --python-version 3.11.2 \
      -d "$WHEELS" \
      -r "$WHEELS/requirements.txt" > "$WHEELS/download.log" 2>&1; then
    cat "$WHEELS/download.log" >&2
    exit 1
  fi
  echo "$hash" > "$stamp"
fi
