"""Small read helpers shared by the services: rows as dicts, the live-row filter, and a cache of
reads that holds while the grid's data is unchanged."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

import sqlite_utils

from crm_lib.errors import ValidationError

T = TypeVar("T")

#: Appended to every read of a mutable table: archived rows are invisible unless asked for.
LIVE = "deleted_at IS NULL"


def execute_bound(conn: Any, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
    """``conn.execute(sql, params)``, with the two values SQLite cannot bind refused as input.

    The services check values where they know the field (and name it); this is the net under
    them, so that an id of 2**63 or a lone surrogate reaching any query is a 422 naming the
    problem, never a 500: the driver raises OverflowError for an int past SQLite's 64-bit
    INTEGER and UnicodeEncodeError for a str that is not valid Unicode.
    """
    try:
        return conn.execute(sql, params)
    except OverflowError:
        raise ValidationError(
            "A whole number in this request is outside SQLite's 64-bit range (-2**63 to 2**63-1)"
        ) from None
    except UnicodeEncodeError:
        raise ValidationError(
            "Text in this request holds an unpaired surrogate, which is not valid Unicode text"
        ) from None


def query_dicts(
    db: sqlite_utils.Database, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> list[dict[str, Any]]:
    """Run a SELECT and return its rows as dicts keyed by column name."""
    cursor = execute_bound(db.conn, sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def query_value(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> Any:
    """The first column of the first row (None when there is no row)."""
    row = execute_bound(db.conn, sql, params).fetchone()
    return None if row is None else row[0]


def name_taken(
    db: sqlite_utils.Database, table: str, name: str, except_id: int | None = None
) -> int | None:
    """The id of a live row of ``table`` named ``name`` (case-insensitively), other than
    ``except_id``: names that must be unique (funds, stages) are checked the same way."""
    return query_value(
        db,
        f"SELECT id FROM {table} WHERE lower(name) = lower(?) AND id IS NOT ? AND {LIVE}",
        [name, except_id],
    )


#: database handle -> (grid state version, {bucket: {key: result}}); see while_grid_unchanged.
_GRID_READS: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, dict[Hashable, Any]]]] = (
    weakref.WeakKeyDictionary()
)


def while_grid_unchanged(
    db: sqlite_utils.Database,
    key: Hashable,
    compute: Callable[[], T],
    *,
    bucket: str = "small",
    limit: int = 64,
) -> T:
    """``compute()``, remembered per connection until the grid's data next changes.

    Every committed write to the grid's tables bumps ``fundraising_state.version`` (the write
    path does it in the same transaction), so a result read at one version is exact for as long
    as the version stands. Paging through one filter at 100,000 investors then scans for its
    matches once instead of on every page (a 50 ms scan). Inside an open transaction nothing is
    cached: its own writes are not yet in the version. Each ``bucket`` holds at most ``limit``
    results (large ones, like ordered id lists, get a small bucket of their own).
    """
    if db.conn.in_transaction:
        return compute()
    version = db.conn.execute("SELECT version FROM fundraising_state").fetchone()[0]
    entry = _GRID_READS.get(db)
    if entry is None or entry[0] != version:
        entry = (version, {})
        _GRID_READS[db] = entry
    cache = entry[1].setdefault(bucket, {})
    if key in cache:
        cache[key] = cache.pop(key)  # most recently used last
        return cache[key]
    if len(cache) >= limit:
        del cache[next(iter(cache))]  # the least recently used
    cache[key] = result = compute()
    return result


#: Values bound per statement by :func:`rows_in` (SQLite allows 32,766 in all; this keeps
#: each statement's plan and memory small).
IN_CHUNK = 500


def rows_in(
    conn: Any, sql: str, values: Iterable[Any], before: Sequence[Any] = ()
) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` whose ``{marks}`` is an ``IN`` list of ``values``, asked in chunks of
    :data:`IN_CHUNK`; ``before`` binds the placeholders ahead of the list."""
    ordered = sorted(set(values))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ordered), IN_CHUNK):
        part = ordered[start : start + IN_CHUNK]
        marks = ", ".join("?" for _ in part)
        rows += conn.execute(sql.format(marks=marks), [*before, *part]).fetchall()
    return rows
