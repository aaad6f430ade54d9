"""Copying and checking database files.

A backup is taken with SQLite's online backup API from a connection of its own, in one step: in
WAL mode that is one read transaction, so it sees one consistent moment while writers carry on
(they append to the WAL; only checkpoints wait). The copy is written as ``<name>.partial``,
switched to a rollback journal (a single self-contained file), fsynced and renamed, so a crash
never leaves a half-written file that looks like a backup.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crm_lib.storage.connect import dbapi

CHUNK = 4 * 1024 * 1024
#: How often the copy is flushed to disk while it is written (see :func:`_flushing`).
FLUSH_EVERY_S = 0.05


@dataclass(frozen=True)
class CopyResult:
    path: Path
    size: int
    sha256: str
    integrity: str  # "ok" or the first problem
    schema_version: int
    seconds: float


def fsync(path: Path) -> None:
    """Make a file's bytes, or a folder's entries (a rename into it), durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _flushing(path: Path, every: float = FLUSH_EVERY_S) -> Iterator[None]:
    """Flush the copy to disk a little at a time while SQLite writes it.

    Left to the end, the flush of a 200 MB copy queues in front of every commit's fsync on the
    same disk (measured: a 238-332 ms stall for a concurrent writer). ``backup()`` releases the
    GIL, so a thread can ``fdatasync`` the growing file every few tens of milliseconds and each
    commit waits behind a few megabytes at most.
    """
    stop = threading.Event()
    fd = os.open(path, os.O_RDONLY)

    def flush() -> None:
        while not stop.wait(every):
            os.fdatasync(fd)

    thread = threading.Thread(target=flush, name="backup-flush", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        os.close(fd)


def online_copy(source: Path, target: Path) -> float:
    """Copy the database at ``source`` to ``target`` while it stays in use; returns seconds."""
    started = time.perf_counter()
    if target.exists():
        raise FileExistsError(f"{target} exists: a backup is never overwritten")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # a copy of the fund's data: its owner's alone, like crm.db
    src = dbapi.connect(str(source), timeout=30)  # reads only; never opens a write
    try:
        dest = dbapi.connect(str(partial))
        try:
            dest.execute("PRAGMA synchronous = OFF")  # the flusher and the final fsync sync it
            with _flushing(partial):
                src.backup(dest)  # one step: one consistent snapshot, no restarts
            dest.execute("PRAGMA journal_mode = DELETE")  # a backup is one self-contained file
        finally:
            dest.close()
    finally:
        src.close()
    fsync(partial)
    os.replace(partial, target)
    fsync(target.parent)
    return time.perf_counter() - started


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_only(path: Path) -> dbapi.Connection:
    # immutable: no locks, no -wal/-shm files, never a write to the backup
    return dbapi.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def integrity(path: Path) -> str:
    """'ok', or the first problem ``PRAGMA integrity_check`` finds (or why it could not run)."""
    try:
        conn = _read_only(path)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except dbapi.DatabaseError as exc:
        return f"not a readable SQLite database ({exc})"
    problems = [r[0] for r in rows if r[0] != "ok"]
    if not problems:
        return "ok"
    counted = "1 problem" if len(problems) == 1 else f"{len(problems):,} problems"
    return f"{counted}, first: {problems[0]}"


def schema_version(path: Path) -> int:
    """The copy's Venture CRM schema version; 0 for a file that never had our migrations (the
    copy taken of a foreign SQLite database before it is migrated)."""
    conn = _read_only(path)
    try:
        if not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone():
            return 0
        row = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
    finally:
        conn.close()
    return int(row[0])


def read_only(path: Path) -> dbapi.Connection:
    """A connection that can never change the file (for previews and tests)."""
    return _read_only(path)


def take(source: Path, target: Path) -> CopyResult:
    """Copy, then hash and check the copy (what a backup records)."""
    seconds = online_copy(source, target)
    checked = integrity(target)
    return CopyResult(
        path=target,
        size=target.stat().st_size,
        sha256=file_sha256(target),
        integrity=checked,
        schema_version=schema_version(target) if checked == "ok" else 0,
        seconds=seconds,
    )
