"""The grid's global version (``fundraising_state``), for whole-grid optimistic checks."""

from __future__ import annotations

from typing import Any

from crm_lib.context import Context
from crm_lib.storage.connect import dbapi
from crm_lib.storage.migrations import current_version, latest_version
from crm_lib.storage.reads import query_dicts


def grid_state(ctx: Context) -> dict[str, Any]:
    """``{"version": n, "updated_at": ..., "updated_by": ...}``; bumped by every grid change."""
    return query_dicts(ctx.db, "SELECT version, updated_at, updated_by FROM fundraising_state")[0]


def database_status(ctx: Context) -> dict[str, Any]:
    """Whether the database is usable by this code: schema current and answering queries."""
    try:
        schema = current_version(ctx.db)
        ctx.db.execute("SELECT count(*) FROM fundraising_state").fetchone()
    except dbapi.Error as exc:
        return {"ready": False, "detail": f"Database error: {exc}"}
    expected = latest_version()
    if schema != expected:
        return {
            "ready": False,
            "schema": schema,
            "expected_schema": expected,
            "detail": f"Database is at schema {schema}, this app expects {expected}; run `crm init`",
        }
    return {"ready": True, "schema": schema, "expected_schema": expected, "detail": "ok"}
