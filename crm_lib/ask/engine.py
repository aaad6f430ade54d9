"""What a process keeps between questions: one locked-down DuckDB over a snapshot of the CRM,
and the matcher of known names, both rebuilt only when the database has changed since.

Why: a fresh snapshot costs about a second at 100,000 investors, and the matcher of 400,000
names about as much; a question over unchanged data should cost only its query. Whether the data
changed is SQLite's ``PRAGMA data_version`` on the engine's own connection: it moves whenever
any *other* connection (this process's or another's) commits. The engine writes the question
log (``ask_log``) through that same connection, so logging a question is not a change that
costs the next one a snapshot. A change between the version read and the snapshot taken only
means one more refresh later, never stale answers.

Two stages per snapshot. The first question after a change is answered over the SQLite copy at
once (DuckDB's SQLite scanner: correct, slower); meanwhile a thread copies the views into
DuckDB's own tables (:func:`~crm_lib.ask.execute.materialize`, about 2 s at 100,000
investors) and, unless the data changed again, later questions read those (5 to 10 times
faster). If the copy fails (a full disk), questions stay on the SQLite copy.

Each question gets its own DuckDB cursor (a connection to the same in-memory database: safe on
any thread). A connection that is replaced stays open for :data:`RETIRE_AFTER_S` (longer than
any query may run), so questions still running on it finish; then it and its files go.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import duckdb

from crm_lib import analytics
from crm_lib.ask.execute import (
    TIME_LIMIT_SECONDS,
    materialize,
    open_connection,
    open_materialized,
)
from crm_lib.ask.scrub import Matcher
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import DatabaseError
from crm_lib.storage.connect import check_database_file, connect

log = logging.getLogger(__name__)
T = TypeVar("T")
#: How long a replaced connection stays open for the questions still running on it.
RETIRE_AFTER_S = 2 * TIME_LIMIT_SECONDS


class AskEngine:
    """The snapshot and the matcher of one process (see module doc)."""

    def __init__(self, settings: Settings, *, materialized: bool = True) -> None:
        self.settings = settings
        self.materialized = materialized  # False: stay on the SQLite copy (tests compare both)
        self._lock = threading.Lock()
        #: the engine's own connection (see module doc), one thread at a time
        self._db_lock = threading.Lock()
        self._db: Any = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_version: int | None = None
        self._fast = threading.Event()  # set once the current snapshot reads DuckDB's tables
        self._retired: list[tuple[float, duckdb.DuckDBPyConnection]] = []
        #: what is derived from the data and kept until it changes: name -> (version, value)
        self._derived: dict[str, tuple[int, Any]] = {}
        self._derived_lock = threading.Lock()
        self._closed = False

    def _connection(self) -> Any:
        if self._db is None:
            path = self.settings.database_path
            if not path.exists():
                raise DatabaseError(f"No CRM database at {path}; run `crm init` first", path=path)
            self._db = connect(path, check_file=False)
        return self._db

    def _data_version(self) -> int:
        """SQLite's counter of commits by other connections (see module doc)."""
        with self._db_lock:
            return int(self._connection().execute("PRAGMA data_version").fetchone()[0])

    def write(self, ctx: Context, action: Callable[[Context], T]) -> T:
        """Run ``action`` (the question log's write) as ``ctx`` on the engine's connection."""
        with self._db_lock:
            return action(replace(ctx, db=self._connection(), active_write=None))

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB cursor over a snapshot as new as the database (see module doc)."""
        with self._lock:
            version = self._data_version()
            if self._con is None or version != self._con_version:
                self._refresh(version)
            assert self._con is not None
            return self._con.cursor()

    def _refresh(self, version: int) -> None:
        """A new snapshot, answered over SQLite now and over DuckDB's tables once copied."""
        path = self.settings.database_path
        check_database_file(path)
        snapshot = analytics.take_snapshot(path, analytics.snapshot_folder(self.settings))
        self._replace(open_connection(self.settings, snapshot), version)
        self._fast.clear()
        if self.materialized:
            threading.Thread(
                target=self._materialize,
                args=(snapshot, version),
                name="crm-ask-materialize",
                daemon=True,
            ).start()

    def _materialize(self, snapshot: Any, version: int) -> None:
        try:
            fast = open_materialized(materialize(self.settings, snapshot))
        except Exception as exc:  # a full disk, a snapshot replaced meanwhile: stay on SQLite
            log.warning("Questions stay on the SQLite snapshot: %s", str(exc).splitlines()[0])
            return
        with self._lock:
            if version == self._con_version and not self._closed:
                self._replace(fast, version)
                self._fast.set()
            else:
                fast.close()

    def _replace(self, con: duckdb.DuckDBPyConnection, version: int) -> None:
        """Make ``con`` current (under the lock); retire the one it replaces (see module doc)."""
        now = time.monotonic()
        if self._con is not None:
            self._retired.append((now, self._con))
        self._con, self._con_version = con, version
        keep = []
        for since, old in self._retired:
            if now - since >= RETIRE_AFTER_S:
                old.close()
            else:
                keep.append((since, old))
        self._retired = keep

    def wait_until_fast(self, timeout: float = 60.0) -> bool:
        """Wait until questions read DuckDB's tables (benchmarks and tests)."""
        return self._fast.wait(timeout)

    def derived(self, name: str, build: Callable[[], T]) -> T:
        """``build()``'s value, kept until the data changes (the matcher of known names, the
        schema Claude is shown): built again only after another connection committed."""
        version = self._data_version()
        with self._derived_lock:
            found = self._derived.get(name)
            if found is not None and found[0] == version:
                return found[1]  # type: ignore[no-any-return]
        value = build()  # outside the lock: a build may ask for a cursor or the matcher
        with self._derived_lock:
            self._derived[name] = (version, value)
        return value

    def matcher(self, conn: Any) -> Matcher:
        """The matcher of the current investors, people and domains (``conn``: the CRM's)."""
        return self.derived("matcher", lambda: Matcher.from_database(conn))

    def close(self) -> None:
        with self._lock, self._db_lock:
            self._closed = True
            if self._db is not None:
                self._db.conn.close()
                self._db = None
            for _, old in self._retired:
                old.close()
            self._retired = []
            if self._con is not None:
                self._con.close()
                self._con = None
