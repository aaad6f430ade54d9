"""What a process keeps between questions: one locked-down DuckDB over a snapshot of the CRM,
and the matcher of known names, both rebuilt only when the database has changed since.

Why: a fresh snapshot costs about a second at 100,000 investors, and the matcher of 400,000
names about as much; a question over unchanged data should cost only its query. Whether the data
changed is SQLite's ``PRAGMA data_version`` on the engine's own connection: it moves whenever
any *other* connection (this process's or another's) commits. The engine writes the question
log (``ask_log``) through that same connection, so logging a question is not a change that
costs the next one a snapshot. A change between the version read and the snapshot taken only
means one more refresh later, never stale answers.

Each question gets its own DuckDB cursor (a connection to the same in-memory database: safe on
any thread); an old snapshot stays readable by the cursors still using it and is removed when
the last of them is gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

import duckdb

from crm_lib.ask.execute import open_connection
from crm_lib.ask.scrub import Matcher
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import DatabaseError
from crm_lib.storage.connect import connect

T = TypeVar("T")


class AskEngine:
    """The snapshot and the matcher of one process (see module doc)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        #: the engine's own connection (see module doc), one thread at a time
        self._db_lock = threading.Lock()
        self._db: Any = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_version: int | None = None
        self._matcher: Matcher | None = None
        self._matcher_version: int | None = None

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
                self._con = open_connection(self.settings)
                self._con_version = version
            return self._con.cursor()

    def matcher(self, conn: Any) -> Matcher:
        """The matcher of the current investors, people and domains (``conn``: the CRM's)."""
        with self._lock:
            version = self._data_version()
            if self._matcher is None or version != self._matcher_version:
                self._matcher = Matcher.from_database(conn)
                self._matcher_version = version
            return self._matcher

    def close(self) -> None:
        with self._lock, self._db_lock:
            if self._db is not None:
                self._db.conn.close()
                self._db = None
            if self._con is not None:
                self._con.close()
                self._con = None
