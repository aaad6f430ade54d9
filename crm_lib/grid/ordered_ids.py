"""A view's matching investor ids in order, remembered and kept exact as the data changes.

Why: a filtered, sorted view of a million investors cannot be read per page. Its WHERE scans
every row (a text "contains" cannot use an index) and its ORDER BY sorts the matches in a
temporary B-tree: seconds at a million, for the first page as for page 500, and again for the
row count. Reading the ordered ids once and cutting every page and the count from them answers
in microseconds, but a cache dropped by every write (the grid's data version) is read again
after each of the 50 writes a second a busy team makes, and the first page after a write, which
every open grid shows, pays the whole scan.

So a remembered list is not dropped: it catches up. Each write logs, in the same transaction,
the investors it touched (``grid_changes``, one row per grid version; see
:func:`crm_lib.storage.writes.investor_changes`). At a later version the list re-places just
those investors: out of the list, and back in (if they still match) at the position a binary
search finds, comparing sort keys as SQLite's ORDER BY does (``COLLATE NOCASE`` folds ASCII
only; ``NULLS LAST`` in both directions; numbers before text before blobs; then the id). A
write that touches none of the columns the view reads (its filters, sorts, list, archived state
and the summed ``total_invested``) moves nothing. A catch-up reads its changes and every probe
inside one read transaction, so all of them see the same version.

Read afresh instead (the plain, always-correct path): the first time; after a write that can
reshape every row (a field's type change: "all"); when more than :data:`REPLACE_LIMIT`
investors changed (an import); when a version is missing from the log (pruned, a restore, a
database copied in). One registry per process, shared by every thread's connection, bounded by
:data:`BUDGET_BYTES` (least recently used out first): 16 bytes an id, 16 MB at a million.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

import numpy as np

from crm_lib.storage.sql import quote

INVESTORS = "fundraising_investors"
#: Investors changed since the remembered version beyond which reading afresh is cheaper.
REPLACE_LIMIT = 2_000
#: Investors a catch-up may re-place where scans are not allowed (:func:`without_scans`).
QUICK_LIMIT = 200
#: Memory for remembered lists in one process (ids and their total_invested: 16 bytes each).
BUDGET_BYTES = 256 * 1024 * 1024
#: SQLite's NOCASE collation folds ASCII letters only.
_ASCII_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class ScanNeeded(Exception):
    """Raised under :func:`without_scans` when a list would have to be read afresh (a scan of
    every investor) or caught up with many changes: the caller runs the read where a slow one
    holds nobody up."""


_NO_SCANS: ContextVar[bool] = ContextVar("no_scans", default=False)


@contextmanager
def without_scans() -> Iterator[None]:
    """Within the block, a read that is not quick raises :class:`ScanNeeded` (the API's event
    loop answers remembered pages itself, in a millisecond or two, and hands the rest to its
    read threads: measured at 100,000 investors, 8 clients, every page on a read thread cost
    p95 22 -> 45 ms; on the loop, one new view's scan stalls every session)."""
    token = _NO_SCANS.set(True)
    try:
        yield
    finally:
        _NO_SCANS.reset(token)


@dataclass(frozen=True)
class SortTerm:
    """One ORDER BY term: a stored column, its direction, and whether text compares NOCASE."""

    column: str
    descending: bool = False
    nocase: bool = False

    def sql(self, prefix: str = "") -> str:
        collate = " COLLATE NOCASE" if self.nocase else ""
        direction = "DESC" if self.descending else "ASC"
        return f"{prefix}{quote(self.column)}{collate} {direction} NULLS LAST"


@dataclass(frozen=True)
class OrderedQuery:
    """Which investors (``where`` with ``params``) in which order (``terms``, then the id), and
    the columns a change must touch to move a row in or out or along (None: any change)."""

    where: str
    params: tuple[Any, ...]
    terms: tuple[SortTerm, ...]
    columns: frozenset[str] | None

    def order_sql(self, prefix: str = "") -> str:
        return ", ".join([*(t.sql(prefix) for t in self.terms), f"{prefix}id"])

    @property
    def key(self) -> Hashable:
        return (self.where, self.params, self.terms)


@dataclass(frozen=True)
class _Remembered:
    """One query's ordered ids at ``version`` (``txn``: the write that made it, None if the log
    has no row for it), with each id's ``total_invested`` for the summary's sum. Immutable: a
    catch-up makes a new one, so a reader always holds a consistent set."""

    ids: np.ndarray
    amounts: np.ndarray
    invested: float
    version: int
    txn: str | None

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.amounts.nbytes)


class OrderedIds:
    """The process's remembered lists, keyed by database file and query."""

    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Remembered] = OrderedDict()
        #: one lock per query: a list is caught up or read by one thread while the others
        #: that need the same list wait for it (eight clients opening a new view scan once)
        self._updating: dict[Hashable, threading.Lock] = {}
        self._queries: dict[Hashable, OrderedQuery] = {}  # each remembered list's query
        #: what was done, for tests and benchmarks: "read", "caught up", "current"
        self.counts: dict[str, int] = {"read": 0, "caught up": 0, "current": 0}

    def clear(self) -> None:
        """Forget every list (and the counts of what was done)."""
        with self._lock:
            self._entries.clear()
            self._updating.clear()
            self._queries.clear()
            self.counts = dict.fromkeys(self.counts, 0)

    def read(
        self,
        conn: Any,
        database: str,
        query: OrderedQuery,
        cursor: tuple[Sequence[Any], int] | None = None,
        *,
        inclusive: bool = False,
    ) -> tuple[np.ndarray, float, int]:
        """The ids matching ``query`` in its order, their summed ``total_invested``, and the
        index of the first row after ``cursor`` (a row's sort keys and id: a keyset cursor; with
        ``inclusive``, the first row at or after it; 0 without one), exact at the database's
        current version (inside a write transaction: read, not remembered)."""
        if conn.in_transaction:
            ids, invested, _amounts = _read_all(conn, query)
            return ids, invested, _seek(conn, ids, query, cursor, inclusive)
        conn.execute("BEGIN")
        try:
            entry = self._current(conn, database, query, current_version(conn))
            return entry.ids, entry.invested, _seek(conn, entry.ids, query, cursor, inclusive)
        finally:
            conn.execute("COMMIT")

    def lengths(self, conn: Any, database: str, queries: Sequence[OrderedQuery]) -> list[int]:
        """How many ids each query matches, all at one version in one read transaction (the
        list tabs' counts, on every page the grid shows)."""
        if conn.in_transaction:
            return [len(_read_all(conn, query)[0]) for query in queries]
        conn.execute("BEGIN")
        try:
            version = current_version(conn)
            return [len(self._current(conn, database, query, version).ids) for query in queries]
        finally:
            conn.execute("COMMIT")

    def ids_in_any_order(
        self, conn: Any, database: str, query: OrderedQuery, version: tuple[int, str | None]
    ) -> np.ndarray:
        """The ids matching ``query`` at ``version`` (inside the caller's read transaction), in
        whatever order a remembered list of the same rows holds them: sums need the rows, not
        their order, so the list a page of the view was cut from serves (and is caught up)."""
        with self._lock:
            same_rows = [
                remembered
                for key, remembered in reversed(self._queries.items())
                if key[0] == database and key[1][:2] == query.key[:2]  # type: ignore[index]
            ]
        return self._current(conn, database, same_rows[0] if same_rows else query, version).ids

    def _current(
        self, conn: Any, database: str, query: OrderedQuery, version: tuple[int, str | None]
    ) -> _Remembered:
        """``query``'s list at ``version`` (inside the caller's read transaction)."""
        key = (database, query.key)
        entry = self._get(key)
        if entry is None or entry.version < version[0]:
            return self._refresh(conn, key, query, *version)
        self.counts["current"] += 1
        return entry

    def _get(self, key: Hashable) -> _Remembered | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def _refresh(
        self, conn: Any, key: Hashable, query: OrderedQuery, version: int, txn: str | None
    ) -> _Remembered:
        with self._lock:
            updating = self._updating.setdefault(key, threading.Lock())
        quick = _NO_SCANS.get()
        if quick and not updating.acquire(blocking=False):
            raise ScanNeeded()  # another thread is reading it: waiting would hold the loop
        if not quick:
            updating.acquire()
        try:
            entry = self._get(key)
            if entry is not None and entry.version >= version:
                return entry  # another thread brought it here meanwhile
            fresh = None
            if entry is not None:
                limit = QUICK_LIMIT if quick else REPLACE_LIMIT
                fresh = _caught_up(conn, query, entry, version, txn, limit)
                if fresh is not None:
                    self.counts["caught up"] += 1
            if fresh is None:
                if quick:
                    raise ScanNeeded()
                ids, invested, amounts = _read_all(conn, query)
                fresh = _Remembered(ids, amounts, invested, version, txn)
                self.counts["read"] += 1
            with self._lock:
                self._queries[key] = query
            self._store(key, fresh)
            return fresh
        finally:
            updating.release()

    def _store(self, key: Hashable, entry: _Remembered) -> None:
        """Keep ``entry``, dropping the least recently used lists past the memory budget."""
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            total = sum(e.nbytes for e in self._entries.values())
            while total > self.budget_bytes and len(self._entries) > 1:
                evicted_key, evicted = self._entries.popitem(last=False)
                self._updating.pop(evicted_key, None)
                self._queries.pop(evicted_key, None)
                total -= evicted.nbytes


#: The process's registry (every connection of every thread shares it).
REGISTRY = OrderedIds()


def current_version(conn: Any) -> tuple[int, str | None]:
    version = int(conn.execute("SELECT version FROM fundraising_state").fetchone()[0])
    row = conn.execute("SELECT txn FROM grid_changes WHERE version = ?", (version,)).fetchone()
    return version, row[0] if row else None


def _read_all(conn: Any, query: OrderedQuery) -> tuple[np.ndarray, float, np.ndarray]:
    rows = conn.execute(
        f"SELECT id, total_invested FROM {INVESTORS} WHERE {query.where}"
        f" ORDER BY {query.order_sql()}",
        query.params,
    ).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    amounts = np.fromiter((r[1] or 0.0 for r in rows), dtype=np.float64, count=len(rows))
    return ids, float(amounts.sum()), amounts


def _touched(
    conn: Any, query: OrderedQuery, entry: _Remembered, version: int, limit: int
) -> set[int] | None:
    """The investors changed after ``entry.version`` up to ``version`` in a way that can move
    them in this query; None when the log cannot tell (then the list is read afresh)."""
    return changed_investors(conn, query.columns, entry.version, entry.txn, version, limit)


def changed_investors(
    conn: Any,
    columns: frozenset[str] | None,
    since: int,
    since_txn: str | None,
    version: int,
    limit: int,
) -> set[int] | None:
    """The investors whose ``columns`` (None: any) changed after version ``since`` (written by
    ``since_txn``) up to ``version``, from the ``grid_changes`` log; None when the log cannot
    tell (a version missing, another history, a reshaping write) or more than ``limit``
    changed. Created, archived and restored investors always count."""
    rows = conn.execute(
        "SELECT version, txn, investors FROM grid_changes WHERE version > ? AND version <= ?"
        " ORDER BY version",
        (since, version),
    ).fetchall()
    if len(rows) != version - since:
        return None  # a version without its row: pruned, a restore, a copied-in database
    if since_txn is not None:
        own = conn.execute("SELECT txn FROM grid_changes WHERE version = ?", (since,)).fetchone()
        if own is None or own[0] != since_txn:
            return None  # the history the list was read from is not this file's
    touched: set[int] = set()
    for _version, _txn, investors in rows:
        changes = json.loads(investors)
        if changes == "all":
            return None
        for first, last, action, changed in changes:
            if (
                action == "update"
                and changed is not None
                and columns is not None
                and not columns.intersection(changed)
            ):
                continue  # nothing the caller reads changed
            if last - first >= limit:
                return None
            touched.update(range(first, last + 1))
            if len(touched) > limit:
                return None
    return touched


def _caught_up(
    conn: Any,
    query: OrderedQuery,
    entry: _Remembered,
    version: int,
    txn: str | None,
    limit: int = REPLACE_LIMIT,
) -> _Remembered | None:
    """``entry`` brought to ``version`` by re-placing the investors changed since; None if it
    must be read afresh instead (or more than ``limit`` changed)."""
    touched = _touched(conn, query, entry, version, limit)
    if touched is None:
        return None
    ids, amounts, invested = entry.ids, entry.amounts, entry.invested
    if touched:
        gone = np.isin(ids, np.fromiter(touched, dtype=np.int64, count=len(touched)))
        if gone.any():
            invested -= float(amounts[gone].sum())
            ids, amounts = ids[~gone], amounts[~gone]
        keys_sql = ", ".join(quote(t.column) for t in query.terms)
        found = conn.execute(
            f"SELECT id, total_invested{', ' + keys_sql if keys_sql else ''} FROM {INVESTORS}"
            f" WHERE id IN (SELECT value FROM json_each(?)) AND ({query.where})",
            (json.dumps(sorted(touched)), *query.params),
        ).fetchall()
        compare = _comparer(query.terms)
        found.sort(key=cmp_to_key(lambda a, b: compare(a[2:], a[0], b[2:], b[0])))
        positions = [
            _bisect(conn, ids, query, compare, row[2:], row[0], inclusive=True) for row in found
        ]
        ids = np.insert(ids, positions, [row[0] for row in found])
        amounts = np.insert(amounts, positions, [row[1] or 0.0 for row in found])
        invested += sum(row[1] or 0.0 for row in found)
    return _Remembered(ids, amounts, invested, version, txn)


def _seek(
    conn: Any,
    ids: np.ndarray,
    query: OrderedQuery,
    cursor: tuple[Sequence[Any], int] | None,
    inclusive: bool,
) -> int:
    """The index of the first id whose (sort keys, id) come after ``cursor`` (``inclusive``:
    at or after it); 0 without one."""
    if cursor is None:
        return 0
    keys, cursor_id = cursor
    return _bisect(conn, ids, query, _comparer(query.terms), keys, cursor_id, inclusive)


def _bisect(
    conn: Any,
    ids: np.ndarray,
    query: OrderedQuery,
    compare: Any,
    keys: Sequence[Any],
    investor_id: int,
    inclusive: bool,
) -> int:
    """Binary search of ``ids`` (in ``query``'s order) for (``keys``, ``investor_id``): the
    index of the first row at or after it (``inclusive``, where such a row is inserted), else
    of the first row after it. Each probed row's keys are read by id."""
    probe_sql = _probe_sql(query)
    limit = -1 if inclusive else 0
    low, high = 0, len(ids)
    while low < high:
        middle = (low + high) // 2
        probe = int(ids[middle])
        probe_keys = conn.execute(probe_sql, (probe,)).fetchone() if query.terms else ()
        if compare(probe_keys, probe, keys, investor_id) <= limit:
            low = middle + 1
        else:
            high = middle
    return low


def row_keys(conn: Any, query: OrderedQuery, investor_id: int) -> tuple[Any, ...] | None:
    """An investor's stored sort keys for ``query`` (what a cursor after it holds)."""
    if not query.terms:
        return ()
    row = conn.execute(_probe_sql(query), (investor_id,)).fetchone()
    return tuple(row) if row is not None else None


def _probe_sql(query: OrderedQuery) -> str:
    keys_sql = ", ".join(quote(t.column) for t in query.terms) or "id"
    return f"SELECT {keys_sql} FROM {INVESTORS} WHERE id = ?"


def _comparer(terms: Sequence[SortTerm]) -> Any:
    """A three-way comparison of (sort keys, id) pairs in SQLite's ORDER BY order."""
    spec = [(t.descending, t.nocase) for t in terms]

    def compare(a: Sequence[Any], a_id: int, b: Sequence[Any], b_id: int) -> int:
        for (descending, nocase), left, right in zip(spec, a, b, strict=False):
            if left is None or right is None:
                if left is None and right is None:
                    continue
                return 1 if left is None else -1  # NULLS LAST, either direction
            x, y = _ranked(left, nocase), _ranked(right, nocase)
            if x == y:
                continue
            order = -1 if x < y else 1
            return -order if descending else order
        return (a_id > b_id) - (a_id < b_id)

    return compare


def _ranked(value: Any, nocase: bool) -> tuple[int, Any]:
    """SQLite's cross-type order: numbers, then text (NOCASE: ASCII folded), then blobs."""
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, str):
        return (1, value.translate(_ASCII_FOLD) if nocase else value)
    return (2, bytes(value))
