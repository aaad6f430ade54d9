"""Writes ``vNN.sql``: a Venture CRM database at each released schema version before the
latest, as SQL text (``sqlite3 .dump`` style), with a little data in it: three investors (one
archived), a fund, a commitment and a person. ``tests/storage/test_upgrade.py`` loads each and
upgrades it to the latest with ``crm upgrade``'s library call, checking nothing was lost.

Run it after adding a migration (the new previous version gets its fixture):

    .venv/bin/python tests/data/schemas/make.py
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

import sqlite_utils  # noqa: E402

from crm_lib.clock import FixedClock  # noqa: E402
from crm_lib.storage.migrations import available_migrations, migrate  # noqa: E402

STAMP = "2026-01-15T10:00:00.000000+00:00"
INVESTORS = ("Acme Capital", "Bloom Pension", "Cedar Trust (archived)")


def insert(db: sqlite_utils.Database, table: str, values: dict) -> int:
    """A row with the bookkeeping every table of every version has, keeping only the columns
    this version's table has."""
    columns = {c.name for c in db[table].columns}
    row = {
        "created_at": STAMP,
        "created_by": "system:fixture",
        "updated_at": STAMP,
        "updated_by": "system:fixture",
        **values,
    }
    row = {k: v for k, v in row.items() if k in columns}
    marks = ", ".join("?" for _ in row)
    cursor = db.conn.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values())
    )
    return int(cursor.lastrowid)


def build(version: int) -> str:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    db = sqlite_utils.Database(conn)
    clock = FixedClock(datetime(2026, 1, 15, 10, tzinfo=UTC))
    migrate(db, clock, migrations=available_migrations()[:version])
    conn.execute("BEGIN")
    fund = insert(db, "fundraising_funds", {"name": "Fund III", "vintage_year": 2025})
    ids = [
        insert(db, "fundraising_investors", {"name": name, "list_membership": "main"})
        for name in INVESTORS
    ]
    conn.execute(
        "UPDATE fundraising_investors SET deleted_at = ?, deleted_by = 'system:fixture'"
        " WHERE id = ?",
        [STAMP, ids[2]],
    )
    insert(
        db,
        "fundraising_commitments",
        {"investor_id": ids[0], "fund_id": fund, "amount": 2_500_000, "status": "committed"},
    )
    conn.execute("UPDATE fundraising_investors SET total_invested = 2500000 WHERE id = ?", [ids[0]])
    insert(
        db,
        "fundraising_contacts",
        {"investor_id": ids[1], "full_name": "Jane Doe", "email": "jane@bloom.example"},
    )
    conn.execute("COMMIT")
    return "\n".join(conn.iterdump()) + "\n"


def main() -> None:
    latest = available_migrations()[-1].version
    for version in range(1, latest):
        (HERE / f"v{version:02d}.sql").write_text(build(version), encoding="utf-8")
        print(f"v{version:02d}.sql")


if __name__ == "__main__":
    main()
