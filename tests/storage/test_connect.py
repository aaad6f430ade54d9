"""Opening databases: the right SQLite, the right pragmas, and bad files refused untouched."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

import crm_lib
from crm_lib.errors import NotADatabaseError, SQLiteTooOldError
from crm_lib.storage import connect as connect_module
from crm_lib.storage.connect import (
    MIN_SQLITE_VERSION,
    check_database_file,
    check_sqlite_library,
    connect,
)
from tests.locks import posix_locks


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_connections_use_pysqlite3_without_the_wal_reset_bug(tmp_path: Path) -> None:
    db = connect(tmp_path / "crm.db")
    version = tuple(int(p) for p in db.execute("select sqlite_version()").fetchone()[0].split("."))
    assert version >= MIN_SQLITE_VERSION
    assert type(db.conn).__module__.startswith("pysqlite3")


def test_pragmas_wal_full_sync_foreign_keys_busy_timeout_no_mmap(tmp_path: Path) -> None:
    db = connect(tmp_path / "crm.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert db.execute("PRAGMA mmap_size").fetchone()[0] == 0


def test_old_sqlite_library_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connect_module.dbapi, "sqlite_version", "3.40.1")
    with pytest.raises(SQLiteTooOldError, match=r"3\.40\.1 is too old"):
        check_sqlite_library()


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = data_dir / "crm.db"
    path.write_text("name,email\nAcme,a@acme.example\n")
    before = digest(path)
    with pytest.raises(NotADatabaseError, match=r"is not a SQLite database.*left untouched"):
        crm_lib.open_crm(data_dir)
    assert digest(path) == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["crm.db"]  # no -wal/-shm created


def test_a_corrupt_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ctx = crm_lib.open_crm(data_dir)
    for n in range(300):
        crm_lib.services.create_investor(ctx, {"name": f"Investor {n}", "notes": "x" * 200})
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ctx.close()
    path = data_dir / "crm.db"
    raw = bytearray(path.read_bytes())
    page_size = int.from_bytes(raw[16:18], "big")
    for page in range(2, len(raw) // page_size):  # scribble over every page but the header page
        raw[page * page_size : page * page_size + 64] = b"\xff" * 64
    path.write_bytes(bytes(raw))
    before = digest(path)
    with pytest.raises(NotADatabaseError, match=r"corrupt.*left untouched"):
        crm_lib.open_crm(data_dir)
    assert digest(path) == before


def test_checking_and_reopening_the_file_keeps_this_process_s_locks(tmp_path: Path) -> None:
    """What the server's scheduler thread does at start-up (``open_crm`` again, while request
    connections are open) must not drop their shared lock on the database file: closing any
    descriptor on it would, and another process could then delete the live WAL."""
    ctx = crm_lib.open_crm(tmp_path / "data")
    path = ctx.settings.database_path
    crm_lib.services.create_investor(ctx, {"name": "Acme"})
    held = posix_locks(path, os.getpid())
    assert [lock.mode for lock in held] == ["READ"]
    check_database_file(path)
    assert posix_locks(path, os.getpid()) == held
    other = crm_lib.open_crm(tmp_path / "data")
    other.close()
    assert posix_locks(path, os.getpid()) == held
    ctx.close()


def test_none_binds_as_null_and_values_keep_their_types(tmp_path: Path) -> None:
    """None goes through the registered NoneType adapter (the fast path), still as NULL."""
    conn = connect(tmp_path / "types.db").conn
    conn.execute("CREATE TABLE t (a, b, c, d)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?)", [(None, 1, 1.5, "x"), (0, None, "", None)]
    )
    rows = conn.execute("SELECT typeof(a), typeof(b), typeof(c), typeof(d) FROM t").fetchall()
    assert [tuple(r) for r in rows] == [
        ("null", "integer", "real", "text"),
        ("integer", "null", "text", "null"),
    ]
    assert conn.execute("SELECT count(*) FROM t WHERE a IS NULL").fetchone()[0] == 1
