"""Numbered SQL migrations, applied in order, each in its own transaction.

Files live in ``storage/migrations/NNNN_name.sql``. Each applied file is recorded in
``schema_migrations`` together with its checksum, so a file edited after release is noticed by
``crm doctor``. A database whose schema is newer than this code is refused, never "downgraded".
Before a database that already holds anything is migrated (an older Venture CRM database, or a
SQLite file from elsewhere that has tables of its own), a copy is taken with SQLite's online backup
API before the first write, so a failed or unwanted upgrade can always be undone by hand.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import sqlite_utils

from crm_lib.clock import Clock, SystemClock, timestamp
from crm_lib.errors import DatabaseError, SchemaTooNewError
from crm_lib.storage.connect import dbapi

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    """Every migration shipped with this version of the code, in order."""
    found = []
    for entry in resources.files("crm_lib.storage").joinpath("migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise DatabaseError(f"Migration files are not numbered 1..n without gaps: {versions}")
    return found


def latest_version() -> int:
    """The schema version this code expects."""
    return available_migrations()[-1].version


def _ensure_migrations_table(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,"
        " applied_at TEXT NOT NULL)"
    )


def applied_versions(db: sqlite_utils.Database) -> dict[int, str]:
    """Applied migration versions mapped to their recorded checksum (empty for a new file)."""
    if "schema_migrations" not in db.table_names():
        return {}
    return dict(db.execute("SELECT version, checksum FROM schema_migrations").fetchall())


def current_version(db: sqlite_utils.Database) -> int:
    """The schema version of the open database (0 for a new file)."""
    return max(applied_versions(db), default=0)


@functools.cache
def expected_tables() -> frozenset[str]:
    """The tables a database at :func:`latest_version` has: the shipped migrations applied to an
    in-memory database once per process (a few milliseconds), so the list never drifts from the
    migration files. Readiness compares the live file with it (a table renamed or dropped by
    hand after start-up)."""
    db = sqlite_utils.Database(dbapi.connect(":memory:", isolation_level=None))
    try:
        migrate(db, SystemClock())
        return frozenset(db.table_names())
    finally:
        db.conn.close()


def check_not_newer(
    db: sqlite_utils.Database, path: Path | None = None, latest: int | None = None
) -> None:
    """Refuse a database migrated by a newer Venture CRM (``latest`` defaults to the shipped one)."""
    current = current_version(db)
    latest = latest_version() if latest is None else latest
    if current > latest:
        raise SchemaTooNewError(
            f"{path or 'The database'} has schema version {current}, but this Venture CRM only "
            f"knows up to version {latest}: it was written by a newer release. Upgrade the app "
            "(git pull, then ./panel_serve.sh); the file was left untouched",
            path=path,
        )


def split_statements(sql: str) -> list[str]:
    """Split a script into complete statements, respecting triggers, strings and comments."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if dbapi.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    leftover = "\n".join(
        part for part in buffer.splitlines() if part.strip() and not part.strip().startswith("--")
    )
    if leftover:
        raise DatabaseError(f"Migration ends with an incomplete statement: {leftover[:80]!r}")
    return statements


def holds_anything(db: sqlite_utils.Database) -> bool:
    """Whether the file has any schema object at all: an older Venture CRM database, or a SQLite
    file from another program that would otherwise be changed in place without a copy."""
    row = db.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()
    return bool(row[0])


def backup_before_migrating(db: sqlite_utils.Database, backup_dir: Path, clock: Clock) -> Path:
    """Copy the live database with the online backup API; returns the copy's path."""
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    target = backup_dir / f"pre-migration-v{current_version(db)}-{stamp}.db"
    destination = dbapi.connect(str(target))
    try:
        db.conn.backup(destination)
    finally:
        destination.close()
    return target


def migrate(
    db: sqlite_utils.Database,
    clock: Clock,
    *,
    backup_dir: Path | None = None,
    path: Path | None = None,
    migrations: list[Migration] | None = None,
) -> list[int]:
    """Apply every pending migration; returns the versions applied (empty if up to date).

    ``migrations`` defaults to the shipped files (tests pass their own to exercise failures).
    """
    shipped = available_migrations() if migrations is None else migrations
    check_not_newer(db, path, latest=max(m.version for m in shipped))
    done = applied_versions(db)
    pending = [m for m in shipped if m.version not in done]
    if not pending:
        return []
    if backup_dir is not None and holds_anything(db):
        backup_before_migrating(db, backup_dir, clock)
    _ensure_migrations_table(db)
    conn = db.conn
    for migration in pending:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in split_statements(migration.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum, applied_at)"
                " VALUES (?, ?, ?, ?)",
                (migration.version, migration.name, migration.checksum, timestamp(clock.now())),
            )
        except dbapi.DatabaseError as exc:
            conn.execute("ROLLBACK")
            raise DatabaseError(
                f"Migration {migration.version:04d}_{migration.name} failed and was rolled back: "
                f"{exc}",
                path=path,
            ) from None
        conn.execute("COMMIT")
    return [m.version for m in pending]
