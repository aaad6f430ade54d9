"""The database file: readable (``quick_check``), at this app's schema with unedited migrations,
in WAL mode, with intact foreign keys and investor totals that agree with their commitments.
The file is opened as it is: never migrated.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import sqlite_utils

from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.storage.connect import check_database_file, connect
from crm_lib.storage.migrations import applied_versions, available_migrations


@check("database")
def check_database(setup: Setup) -> Iterable[Finding]:
    path = setup.settings.database_path
    if not path.exists():
        yield Finding("warn", f"No database at {path} yet", "run `crm init`")
        return
    check_database_file(path)
    db = connect(path, check_file=False)
    try:
        yield from _database_findings(db, path)
    finally:
        db.conn.close()


def _database_findings(db: sqlite_utils.Database, path: Path) -> Iterable[Finding]:
    applied = applied_versions(db)
    shipped = {m.version: m for m in available_migrations()}
    current, latest = max(applied, default=0), max(shipped)
    size_mib = path.stat().st_size / 2**20
    if current > latest:
        yield Finding(
            "fail",
            f"{path} has schema {current}, newer than this app ({latest})",
            "install the Venture CRM release that wrote it",
        )
        return
    if current < latest:
        yield Finding("warn", f"{path} is at schema {current} of {latest}", "run `crm init`")
    else:
        yield Finding("ok", f"{path} ({size_mib:.1f} MiB) passes quick_check, schema {current}")
    edited = [
        v for v, checksum in applied.items() if v in shipped and shipped[v].checksum != checksum
    ]
    if edited:
        yield Finding(
            "warn",
            f"Migration files changed after they were applied: {edited}",
            "restore crm_lib/storage/migrations/ from the release (`git diff` shows the edit)",
        )
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        yield Finding("warn", f"Journal mode is {mode}, expected wal", "restart the server")
    violations = db.execute("PRAGMA foreign_key_check").fetchall()
    if violations:
        yield Finding(
            "fail",
            f"{len(violations)} rows break foreign keys, e.g. {violations[0]}",
            "restore the latest verified backup (`crm restore`)",
        )
    if current:
        drift = db.execute(
            "SELECT count(*) FROM fundraising_investors i WHERE i.total_invested !="
            " (SELECT ROUND(COALESCE(SUM(amount), 0), 2) FROM fundraising_commitments c"
            "  WHERE c.investor_id = i.id AND c.deleted_at IS NULL)"
        ).fetchone()[0]
        if drift:
            yield Finding(
                "fail",
                f"{drift} investors have a total_invested that disagrees with their commitments",
                "restore the latest verified backup (`crm restore`)",
            )
