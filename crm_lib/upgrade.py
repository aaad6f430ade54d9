"""``crm upgrade``: bring a database to this release's schema safely, or leave it as it was.

Backup, migrate, verify, done; or, when a migration or a check fails, the pre-upgrade backup
is restored and the report says what failed. The checks after migrating:

* ``PRAGMA integrity_check`` is ``ok`` and ``PRAGMA foreign_key_check`` finds nothing;
* every table this release expects is there;
* no table lost live rows (a migration adds and reshapes; it never drops data);
* one row of every table reads back (a smoke query per table).

A database written by a newer release is refused before anything is touched (downgrades are
not supported: restore a backup taken by the older release instead).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_lib.backups.files import integrity
from crm_lib.backups.restore import copy_into, table_counts
from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings
from crm_lib.errors import DatabaseError
from crm_lib.storage.connect import connect
from crm_lib.storage.migrations import (
    Migration,
    available_migrations,
    backup_before_migrating,
    check_not_newer,
    current_version,
    expected_tables,
    migrate,
)


@dataclass
class UpgradeReport:
    """What an upgrade did: the versions, the backup it took, the checks, and the outcome
    (``upgraded``, ``current`` or ``restored``)."""

    outcome: str
    from_version: int
    to_version: int
    backup: Path | None = None
    applied: list[int] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "backup": str(self.backup) if self.backup else None,
            "applied": self.applied,
            "checks": self.checks,
            "problems": self.problems,
        }


def verify(db: Any, before: dict[str, int], tables: frozenset[str]) -> tuple[list[str], list[str]]:
    """The checks after migrating: (passed, problems)."""
    passed, problems = [], []
    integrity_rows = [r[0] for r in db.execute("PRAGMA integrity_check").fetchall()]
    if integrity_rows == ["ok"]:
        passed.append("integrity_check: ok")
    else:
        problems.append(f"integrity_check: {integrity_rows[0]}")
    orphans = db.execute("PRAGMA foreign_key_check").fetchall()
    if orphans:
        problems.append(f"foreign_key_check: {len(orphans):,} rows point at nothing")
    else:
        passed.append("foreign_key_check: nothing points at a missing row")
    present = set(db.table_names())
    missing = sorted(tables - present)
    if missing:
        problems.append(f"tables missing after migrating: {', '.join(missing)}")
    else:
        passed.append(f"all {len(tables)} tables of this release are there")
    after = table_counts(db.conn)
    lost = [
        f"{table} ({count:,} -> {after.get(table, 0):,})"
        for table, count in before.items()
        if after.get(table, 0) < count
    ]
    if lost:
        problems.append("live rows lost: " + "; ".join(lost))
    else:
        passed.append(f"row counts kept in {len(before)} tables")
    for table in sorted(present):
        try:
            db.execute(f'SELECT * FROM "{table}" LIMIT 1').fetchall()
        except Exception as exc:  # any failure to read a table back fails the upgrade
            problems.append(f"{table} does not read back: {exc}")
    if not any(p.endswith("read back") for p in problems):
        passed.append(f"one row of each of {len(present)} tables reads back")
    return passed, problems


def upgrade(
    settings: Settings,
    clock: Clock | None = None,
    *,
    migrations: list[Migration] | None = None,
) -> UpgradeReport:
    """Back up, migrate, verify; restore the backup if anything fails (see the module)."""
    clock = clock or SystemClock()
    path = settings.database_path
    if not path.is_file():
        raise DatabaseError(f"No CRM database at {path}: nothing to upgrade (crm init makes one)")
    shipped = available_migrations() if migrations is None else migrations
    latest = max(m.version for m in shipped)
    db = connect(path, check_file=False)
    try:
        check_not_newer(db, path, latest=latest)  # a downgrade: refused, nothing touched
        start = current_version(db)
        if start == latest:
            return UpgradeReport("current", start, latest, checks=["already at the latest"])
        before = table_counts(db.conn)
        backup = backup_before_migrating(db, settings.backup_dir, clock)
        checked = integrity(backup)
        if checked != "ok":
            raise DatabaseError(f"The pre-upgrade backup {backup} is not sound ({checked})")
        report = UpgradeReport("upgraded", start, latest, backup=backup)
        try:
            report.applied = migrate(db, clock, path=path, migrations=shipped)
        except DatabaseError as exc:
            report.problems.append(exc.message)
        if not report.problems:
            tables = expected_tables() if migrations is None else frozenset(db.table_names())
            report.checks, report.problems = verify(db, before, tables)
    finally:
        db.conn.close()
    if report.problems:
        copy_into(backup, path)  # every page back, in one transaction
        report.outcome = "restored"
        report.to_version = start
        return report
    _catalog_backup(settings, clock)
    return report


def _catalog_backup(settings: Settings, clock: Clock) -> None:
    """List the pre-upgrade copy with the other backups (verified and kept by the policy)."""
    from crm_lib.context import Context
    from crm_lib.services.backups import register_pre_migration_backups

    db = connect(settings.database_path, check_file=False)
    try:
        register_pre_migration_backups(
            Context(db=db, actor="system:upgrade", settings=settings, clock=clock)
        )
    finally:
        db.conn.close()
