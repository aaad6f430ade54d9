#!/bin/sh
# The container's start: a new volume gets a database; an existing one is upgraded with
# `crm upgrade` (backup, migrate, verify, restore on failure: a failed upgrade stops the
# container with the report instead of serving a half-migrated database). Then the server,
# on all the container's interfaces: docker-compose.yml publishes it on the host's loopback only.
set -eu
umask 0077  # the fund's data is for the crm user alone, as with the systemd unit's UMask
if [ -f "${CRM_DATA_DIR:-/data}/crm.db" ]; then
    crm upgrade
else
    crm init
fi
exec python -m apps.serve --host 0.0.0.0 --port 5006 "$@"
