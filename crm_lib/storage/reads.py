"""Small read helpers shared by the services: rows as dicts, and the live-row filter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

#: Appended to every read of a mutable table: archived rows are invisible unless asked for.
LIVE = "deleted_at IS NULL"


def query_dicts(
    db: sqlite_utils.Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Run a SELECT and return its rows as dicts keyed by column name."""
    cursor = db.conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query_value(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = db.conn.execute(sql, params).fetchone()
    return None if row is None else row[0]
