"""Opening the database: the right SQLite, the right pragmas, and a refusal for bad files.

Every connection goes through :func:`connect`, which

* uses ``pysqlite3`` (SQLite >= 3.51.3; older versions have the WAL-reset corruption race when two
  connections write or checkpoint at once) and refuses a library older than that;
* refuses a file that is not a SQLite database, or is corrupt, *before* anything could write to it,
  through a read-only SQLite connection (never a plain file read: see :func:`check_database_file`);
* turns on WAL with fsync on every commit, foreign keys and a busy timeout, and leaves memory
  mapping off.

Transactions are managed explicitly (``isolation_level=None``) by the write path.
"""

from __future__ import annotations

from pathlib import Path

import pysqlite3.dbapi2 as sqlite3
import sqlite_utils

from crm_lib.errors import NotADatabaseError, SQLiteTooOldError

MIN_SQLITE_VERSION = (3, 51, 3)
#: SQLite's result code for a file that does not start with its header.
SQLITE_NOTADB = 26
#: SQLite's result codes for a lock held by another connection (another process, or this one).
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
BUSY_TIMEOUT_MS = 5000

#: The DB-API module every part of crm_lib uses (errors are caught from here, too).
dbapi = sqlite3

#: pysqlite3 binds a None parameter through its adapter protocol, whose failed ``__conform__``
#: lookup raises and clears an AttributeError for every NULL: binding wide rows with empty
#: cells cost 6x binding values (measured: 100,000 rows x 40 columns, a third NULL, inserted
#: in 4.3 s; with this adapter 0.7 s). A NoneType adapter is found by one dict lookup instead;
#: ``{}.get`` is a C function that returns None for any key, so NULL is still bound as NULL.
sqlite3.register_adapter(type(None), {}.get)


def sqlite_library_version() -> tuple[int, int, int]:
    """The version of the SQLite library linked into the driver in use."""
    major, minor, patch = (int(part) for part in sqlite3.sqlite_version.split("."))
    return major, minor, patch


def check_sqlite_library() -> None:
    """Refuse to run on a SQLite library that has the WAL-reset bug."""
    if sqlite_library_version() < MIN_SQLITE_VERSION:
        wanted = ".".join(map(str, MIN_SQLITE_VERSION))
        raise SQLiteTooOldError(
            f"SQLite {sqlite3.sqlite_version} is too old (need >= {wanted}, which fixes the "
            "WAL-reset corruption race); reinstall with `pip install -e .` to get pysqlite3"
        )


def check_database_file(path: Path) -> None:
    """Refuse a file that is not a healthy SQLite database, without modifying it.

    A missing or empty file is fine (it becomes a new database). Anything else must open as a
    SQLite database and pass ``PRAGMA quick_check`` through a read-only connection.

    The file is only ever read *through SQLite*: never with ``open()``. Closing any descriptor
    on a database file releases every POSIX lock the process holds on it, including the shared
    lock of this process's other connections ("How To Corrupt An SQLite Database File", 2.2);
    another process would then think it is the last user, checkpoint and delete the live WAL
    under our feet. SQLite's own connections share one descriptor per file inside the library,
    so opening and closing the probe here is safe while other connections are open.
    """
    if not path.exists() or path.stat().st_size == 0:
        return
    if path.is_dir():
        raise NotADatabaseError(f"{path} is a folder, not a database file", path=path)
    try:
        probe = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            problems = [row[0] for row in probe.execute("PRAGMA quick_check").fetchall()]
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        if _is_not_a_database(exc):
            raise NotADatabaseError(
                f"{path} is not a SQLite database (its first bytes are not the SQLite header); "
                "it was left untouched. Point CRM_DATA_DIR at another folder or move the file "
                "away",
                path=path,
            ) from None
        raise NotADatabaseError(
            f"{path} is corrupt ({exc}); it was left untouched. Restore it from a backup",
            path=path,
        ) from None
    if problems != ["ok"]:
        raise NotADatabaseError(
            f"{path} is corrupt ({'; '.join(problems[:3])}); it was left untouched. "
            "Restore it from a backup",
            path=path,
        )


def _is_not_a_database(exc: sqlite3.DatabaseError) -> bool:
    """SQLITE_NOTADB: the file does not start with the SQLite header (or is encrypted)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code == SQLITE_NOTADB if code is not None else "not a database" in str(exc)


def connect(path: Path | str, *, check_file: bool = True) -> sqlite_utils.Database:
    """Open (creating if needed) the database at ``path`` with the project's pragmas.

    ``check_file=False`` skips the quick_check for callers that open many short connections to a
    file already checked in this process (the check reads the whole file).
    """
    check_sqlite_library()
    path = Path(path)
    if check_file:
        check_database_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise NotADatabaseError(f"{path} could not be switched to WAL mode (got {mode})")
        # FULL: every commit is fsynced, so a power cut never loses a saved edit. Measured cost
        # on a single-cell write: p95 0.41 ms vs 0.17 ms with NORMAL (which can drop the last
        # commits on power loss in WAL mode).
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA mmap_size = 0")
        refresh_statistics(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise NotADatabaseError(f"{path} cannot be opened: {exc}", path=path) from None
    return sqlite_utils.Database(conn)


def refresh_statistics(conn: sqlite3.Connection) -> None:
    """Give SQLite's planner row statistics (``sqlite_stat1``) where they are missing or stale.

    Without them it walks the partial name index and looks up every row for a filter it cannot
    index: 220 ms instead of a 45 ms table scan at 100,000 investors (measured). ``analysis_limit``
    bounds the sampling; only tables never analysed, or grown tenfold since, are analysed:
    about 30 ms the first time on 100,000 investors, under 1 ms after.
    """
    conn.execute("PRAGMA analysis_limit = 400")
    # Statistics are an optimisation: never wait for them. A new connection opened while another
    # holds the write lock (a long change) would otherwise wait the whole busy timeout here and
    # then fail to open; the next connection refreshes them instead.
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        conn.execute("PRAGMA optimize = 0x10002")
    except sqlite3.OperationalError as exc:
        if (getattr(exc, "sqlite_errorcode", SQLITE_BUSY) & 0xFF) not in (
            SQLITE_BUSY,
            SQLITE_LOCKED,
        ):
            raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
