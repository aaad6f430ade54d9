"""The grid's global version (``fundraising_state``), for whole-grid optimistic checks."""

from __future__ import annotations

import shutil
from typing import Any

from crm_lib.context import Context
from crm_lib.storage.connect import dbapi
from crm_lib.storage.migrations import current_version, expected_tables, latest_version
from crm_lib.storage.reads import query_dicts
from crm_lib.storage.writes import writer_busy


def writes_busy(ctx: Context) -> bool:
    """Whether another change is being written right now in this process (then a quick write
    should wait on a worker thread, not on a front end's event loop)."""
    return writer_busy(ctx)


def grid_state(ctx: Context) -> dict[str, Any]:
    """``{"version": n, "updated_at": ..., "updated_by": ...}``; bumped by every grid change."""
    return query_dicts(ctx.db, "SELECT version, updated_at, updated_by FROM fundraising_state")[0]


#: Readiness fails below this much free space (the same floor as ``crm doctor``'s disk check).
MIN_FREE_BYTES = 100 * 2**20
#: How long the readiness probe waits for the write lock before calling the database busy.
WRITE_PROBE_TIMEOUT_MS = 1000


def database_status(ctx: Context) -> dict[str, Any]:
    """Whether this process can serve: schema current, database answering and writable (the
    write lock can be taken), and enough free disk space for writes to succeed."""
    try:
        schema = current_version(ctx.db)
        ctx.db.execute("SELECT count(*) FROM fundraising_state").fetchone()
    except dbapi.Error as exc:
        return {"ready": False, "detail": f"Database error: {exc}"}
    expected = latest_version()
    status: dict[str, Any] = {"schema": schema, "expected_schema": expected}
    if schema != expected:
        detail = f"Database is at schema {schema}, this app expects {expected}; run `crm init`"
        return {"ready": False, **status, "detail": detail}
    missing = sorted(expected_tables() - set(ctx.db.table_names()))
    if missing:
        detail = (
            f"Database is missing table(s) {', '.join(missing)}: it was changed outside the app; "
            "check it with `crm doctor` and restore the latest backup with `crm restore`"
        )
        return {"ready": False, **status, "detail": detail}
    free = shutil.disk_usage(ctx.settings.data_dir).free
    status["free_disk_mb"] = free // 2**20
    if free < MIN_FREE_BYTES:
        detail = f"Only {free // 2**20} MB free in {ctx.settings.data_dir}; writes may fail"
        return {"ready": False, **status, "detail": detail}
    writable = _write_probe(ctx)
    if writable is not None:
        return {"ready": False, **status, "detail": writable}
    return {"ready": True, **status, "detail": "ok"}


def _write_probe(ctx: Context) -> str | None:
    """Take and release the write lock (nothing is written); the problem, or None."""
    conn = ctx.db.conn
    previous = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {WRITE_PROBE_TIMEOUT_MS}")
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except dbapi.Error as exc:
        return f"Database is not writable: {exc}"
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(previous)}")
    return None
