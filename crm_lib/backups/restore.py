"""Comparing a backup with the live database, and copying a restored file into it.

A restore never swaps files under open connections: the prepared copy (migrated forward, with
the live backup catalog and a record of the restore) is written into the live database through
SQLite's backup API, which takes the live file's write lock and replaces every page in one
transaction. Every other connection, in this process or another, simply sees the new content
with its next read, as after any commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crm_lib.backups.files import read_only
from crm_lib.storage.connect import dbapi

INVESTORS = "fundraising_investors"
EXAMPLES = 5
#: Tables a restore carries over from the live database instead of taking them from the backup
#: (``offbox_copies`` too: off-box retention must know every copy it made, older data or not).
CATALOG_TABLES = ("backups", "job_runs", "offbox_copies")


def _tables(conn: dbapi.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " ORDER BY name"
    ).fetchall()
    return [r[0] for r in rows]


def _live_count(conn: dbapi.Connection, table: str) -> int:
    columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")').fetchall()}
    where = " WHERE deleted_at IS NULL" if "deleted_at" in columns else ""
    return int(conn.execute(f'SELECT count(*) FROM "{table}"{where}').fetchone()[0])


def table_counts(conn: dbapi.Connection) -> dict[str, int]:
    """Live (not archived) rows per table."""
    return {table: _live_count(conn, table) for table in _tables(conn)}


def _investors(conn: dbapi.Connection) -> dict[int, tuple[str, int]]:
    rows = conn.execute(f"SELECT id, name, version FROM {INVESTORS} WHERE deleted_at IS NULL")
    return {r[0]: (r[1], r[2]) for r in rows}


def compare(live: dbapi.Connection, backup_path: Path) -> dict[str, Any]:
    """What restoring ``backup_path`` would do: per-table counts, and the investors that would
    come back, disappear or change (counts and a few names each)."""
    backup = read_only(backup_path)
    try:
        before, after = table_counts(live), table_counts(backup)
        then, now = _investors(backup), _investors(live)
    finally:
        backup.close()
    back = sorted(set(then) - set(now))
    gone = sorted(set(now) - set(then))
    changed = sorted(i for i in set(then) & set(now) if then[i][1] != now[i][1])
    return {
        "tables": [
            {"table": t, "live": before.get(t, 0), "backup": after.get(t, 0)}
            for t in sorted(set(before) | set(after))
            if t not in CATALOG_TABLES
        ],
        "investors_back": {"count": len(back), "examples": [then[i][0] for i in back[:EXAMPLES]]},
        "investors_gone": {"count": len(gone), "examples": [now[i][0] for i in gone[:EXAMPLES]]},
        "investors_changed": {
            "count": len(changed),
            "examples": [
                f"{now[i][0]} (version {now[i][1]} → {then[i][1]})" for i in changed[:EXAMPLES]
            ],
        },
    }


def carry_catalog(prepared: dbapi.Connection, live_path: Path) -> None:
    """Give the prepared copy the live catalog of backups (newer ones included)."""
    prepared.execute("ATTACH DATABASE ? AS live", (str(live_path),))
    try:
        for table in CATALOG_TABLES:
            prepared.execute(f'INSERT OR REPLACE INTO main."{table}" SELECT * FROM live."{table}"')
    finally:
        prepared.execute("DETACH DATABASE live")


def copy_into(prepared_path: Path, live_path: Path) -> None:
    """Replace the live database's content with the prepared file's, in one transaction."""
    source = dbapi.connect(str(prepared_path))
    try:
        target = dbapi.connect(str(live_path), timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()
