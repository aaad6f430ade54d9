"""Every investor's numbers for the grid's footer, held in memory and kept current by the change log.

Why: the footer sums each number and currency field, averages each percent field and sums each
fund's commitments over every investor in the view. Read with SQL, that is a scan of every wide
investor row matching the view (a second at a million investors), and the sums change with
every write, so each open grid paid the scan again after each colleague's edit (measured at
100,000 investors: the first page after a write took 150 ms, 130 of them the footer's scan).

Here each footer column is an array indexed by investor id (NaN where blank), and each fund's
commitments an array of the investor's live commitment amount in that fund. A view's totals
are then sums over the view's ids (:meth:`crm_lib.grid.ordered_ids.OrderedIds.ids_in_any_order`,
the list its pages are cut from): milliseconds at a million. The arrays catch up like the
remembered lists do: the ``grid_changes`` log names the investors each write touched (a
commitment's write names its investor, :data:`crm_lib.storage.writes.COMMITMENTS_CHANGED`),
and only those are re-read. Read afresh the first time, after a field's type change, after
more than :data:`REPLACE_LIMIT` changes, or when the log cannot tell (pruned, a restore).

Arrays are updated in place under a lock (a copy of every array per write would cost more than
the sums); a reader sums under the same lock, so it never sees half a catch-up. Memory: 8 bytes
per investor per footer column and per fund (24 MB at a million investors with 3 columns).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crm_lib.grid.ordered_ids import REPLACE_LIMIT, changed_investors
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import COMMITMENTS_CHANGED

INVESTORS = "fundraising_investors"
#: The footer's columns: field types it sums, and those it averages (a sum of rates means nothing).
SUMMED_TYPES = frozenset({"number", "currency"})
AVERAGED_TYPES = frozenset({"percent"})
COMMITMENTS = "fundraising_commitments"
#: Rows fetched at a time when reading every investor's values afresh.
CHUNK = 50_000


@dataclass
class _Values:
    """One database's arrays at ``version`` (written by ``txn``), each ``length`` long."""

    version: int
    txn: str | None
    length: int
    columns: dict[str, np.ndarray]
    funds: dict[int, np.ndarray] = field(default_factory=dict)
    #: whether each investor has a live commitment to the fund (a zero amount still counts)
    held: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Sums:
    """Totals over a set of investors: per column (sum, non-blank count), and per fund the sum
    of its live commitments (funds none of the investors committed to are left out)."""

    columns: dict[str, tuple[float, int]]
    funds: dict[int, float]


class ColumnValues:
    """The process's footer arrays, one set per database file (for its current footer columns)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, _Values] = {}
        #: what was done, for tests and benchmarks: "read", "caught up", "current"
        self.counts: dict[str, int] = {"read": 0, "caught up": 0, "current": 0}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.counts = dict.fromkeys(self.counts, 0)

    def sums(
        self,
        conn: Any,
        database: str,
        columns: Sequence[str],
        ids: np.ndarray,
        version: tuple[int, str | None],
    ) -> Sums:
        """The totals of ``columns`` and of every fund over the investors ``ids``, at
        ``version`` (inside the caller's read transaction) or later."""
        with self._lock:
            entry = self._entries.get(database)
            if entry is not None and list(entry.columns) != list(columns):
                entry = None  # a footer field added, removed or retyped: one set per file
            if entry is None or entry.version < version[0]:
                entry = self._refresh(conn, entry, tuple(columns), *version)
                self._entries[database] = entry
            else:
                self.counts["current"] += 1
            return _sum(entry, ids)

    def _refresh(
        self,
        conn: Any,
        entry: _Values | None,
        columns: tuple[str, ...],
        version: int,
        txn: str | None,
    ) -> _Values:
        if entry is not None:
            watched = frozenset({*columns, COMMITMENTS_CHANGED})
            touched = changed_investors(
                conn, watched, entry.version, entry.txn, version, REPLACE_LIMIT
            )
            if touched is not None:
                _reread(conn, entry, sorted(touched))
                entry.version, entry.txn = version, txn
                self.counts["caught up"] += 1
                return entry
        self.counts["read"] += 1
        return _read_all(conn, columns, version, txn)


#: The process's footer arrays (every connection of every thread shares them).
COLUMN_VALUES = ColumnValues()


def _number(value: Any) -> float:
    """A stored value as SQLite's total() adds it: NaN for blank, 0 for text that is no number."""
    if value is None:
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _read_all(conn: Any, columns: tuple[str, ...], version: int, txn: str | None) -> _Values:
    top = conn.execute(f"SELECT max(id) FROM {INVESTORS}").fetchone()[0] or 0
    length = _capacity(top)
    arrays = {column: np.full(length, np.nan) for column in columns}
    selected = ", ".join(["id", *(quote(c) for c in columns)])
    cursor = conn.execute(f"SELECT {selected} FROM {INVESTORS}")
    while rows := cursor.fetchmany(CHUNK):
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        for index, column in enumerate(columns, start=1):
            arrays[column][ids] = np.fromiter(
                (_number(r[index]) for r in rows), dtype=np.float64, count=len(rows)
            )
    entry = _Values(version, txn, length, arrays)
    _place_commitments(entry, _commitments(conn))
    return entry


def _reread(conn: Any, entry: _Values, touched: list[int]) -> None:
    """Re-read the touched investors' values and commitments into ``entry``'s arrays."""
    if not touched:
        return
    _grow(entry, touched[-1])
    chosen = np.asarray(touched, dtype=np.int64)
    for array in entry.columns.values():
        array[chosen] = np.nan
    for array in (*entry.funds.values(), *entry.held.values()):
        array[chosen] = 0
    listed = json.dumps(touched)
    columns = list(entry.columns)
    if columns:
        selected = ", ".join(["id", *(quote(c) for c in columns)])
        for row in conn.execute(
            f"SELECT {selected} FROM {INVESTORS} WHERE id IN (SELECT value FROM json_each(?))",
            (listed,),
        ):
            for index, column in enumerate(columns, start=1):
                entry.columns[column][row[0]] = _number(row[index])
    _place_commitments(entry, _commitments(conn, listed))


def _commitments(conn: Any, investors: str | None = None) -> list[tuple[int, int, float]]:
    """(investor, fund, live amount) of every investor, or of the ``investors`` (a JSON list)."""
    only = " AND investor_id IN (SELECT value FROM json_each(?))" if investors else ""
    return conn.execute(
        f"SELECT investor_id, fund_id, total(amount) FROM {COMMITMENTS}"
        f" WHERE deleted_at IS NULL{only} GROUP BY investor_id, fund_id",
        (investors,) if investors else (),
    ).fetchall()


def _place_commitments(entry: _Values, commitments: list[tuple[int, int, float]]) -> None:
    _grow(entry, max((row[0] for row in commitments), default=0))
    for investor_id, fund_id, amount in commitments:
        if fund_id not in entry.funds:
            entry.funds[fund_id] = np.zeros(entry.length)
            entry.held[fund_id] = np.zeros(entry.length, dtype=bool)
        entry.funds[fund_id][investor_id] = amount
        entry.held[fund_id][investor_id] = True


def _capacity(top_id: int) -> int:
    """Array length for ids up to ``top_id``, with room for the next investors created."""
    return top_id + 1 + max(1024, top_id // 8)


def _grow(entry: _Values, top_id: int) -> None:
    """Lengthen every array so ``top_id`` fits (investors created since the arrays were read)."""
    if top_id < entry.length:
        return
    wanted = _capacity(top_id)
    extra = wanted - entry.length
    for column, array in entry.columns.items():
        entry.columns[column] = np.concatenate([array, np.full(extra, np.nan)])
    for fund_id, array in entry.funds.items():
        entry.funds[fund_id] = np.concatenate([array, np.zeros(extra)])
        entry.held[fund_id] = np.concatenate([entry.held[fund_id], np.zeros(extra, dtype=bool)])
    entry.length = wanted


def _sum(entry: _Values, ids: np.ndarray) -> Sums:
    inside = ids[ids < entry.length]  # every id fits once caught up; this keeps it safe
    columns: dict[str, tuple[float, int]] = {}
    for column, array in entry.columns.items():
        values = array[inside]
        filled = ~np.isnan(values)
        columns[column] = (float(values[filled].sum()), int(filled.sum()))
    funds = {
        fund_id: round(float(array[inside].sum()), 2)
        for fund_id, array in entry.funds.items()
        if entry.held[fund_id][inside].any()
    }
    return Sums(columns, funds)
