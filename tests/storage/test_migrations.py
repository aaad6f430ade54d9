"""Numbered migrations: from empty, re-run, refused newer schema, rollback, pre-migration backup."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import crm_lib
from crm_lib.clock import FixedClock
from crm_lib.errors import DatabaseError, SchemaTooNewError
from crm_lib.storage.connect import connect
from crm_lib.storage.migrations import (
    Migration,
    available_migrations,
    current_version,
    latest_version,
    migrate,
    split_statements,
)

TABLES = {
    "users",
    "fundraising_investors",
    "fundraising_contacts",
    "contacts",
    "fundraising_funds",
    "fundraising_commitments",
    "fundraising_views",
    "fundraising_state",
    "grid_fields",
    "feature_requests",
    "app_settings",
    "audit_log",
    "schema_migrations",
}
BOOKKEEPING = {
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted_at",
    "deleted_by",
}


def test_migrating_an_empty_file_creates_every_table_with_bookkeeping(
    tmp_path: Path, clock: FixedClock
) -> None:
    db = connect(tmp_path / "crm.db")
    assert migrate(db, clock) == [m.version for m in available_migrations()]
    assert set(db.table_names()) >= TABLES
    for table in TABLES - {"audit_log", "schema_migrations", "fundraising_state"}:
        assert {c.name for c in db[table].columns} >= BOOKKEEPING, table
    rows = db.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    assert [(v, n) for v, n, _ in rows] == [(m.version, m.name) for m in available_migrations()]
    assert all(len(checksum) == 64 for _, _, checksum in rows)
    assert db.execute("SELECT version FROM fundraising_state").fetchone()[0] == 1


def test_rerunning_migrations_changes_nothing(tmp_path: Path, clock: FixedClock) -> None:
    ctx = crm_lib.open_crm(tmp_path / "data", clock=clock)
    crm_lib.services.create_investor(ctx, {"name": "Acme"})
    ctx.close()
    again = crm_lib.open_crm(tmp_path / "data", clock=clock)
    assert migrate(again.db, clock) == []
    assert crm_lib.services.count_by_list(again)["all"] == 1
    assert not (tmp_path / "data" / "backups").exists()


def test_a_database_from_a_newer_version_is_refused_untouched(
    tmp_path: Path, clock: FixedClock
) -> None:
    data_dir = tmp_path / "data"
    ctx = crm_lib.open_crm(data_dir, clock=clock)
    ctx.db.execute(
        "INSERT INTO schema_migrations VALUES (?, 'from_the_future', 'x', '2030-01-01')",
        [latest_version() + 1],
    )
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ctx.close()
    path = data_dir / "crm.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(
        SchemaTooNewError, match=f"schema version {latest_version() + 1}.*newer release"
    ):
        crm_lib.open_crm(data_dir, clock=clock)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_failing_migration_rolls_back_completely(tmp_path: Path, clock: FixedClock) -> None:
    db = connect(tmp_path / "crm.db")
    migrate(db, clock)
    broken = Migration(
        latest_version() + 1,
        "broken",
        "CREATE TABLE half_done (id INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )
    with pytest.raises(DatabaseError, match="broken failed and was rolled back"):
        migrate(db, clock, migrations=[*available_migrations(), broken])
    assert "half_done" not in db.table_names()
    assert current_version(db) == latest_version()


def test_a_database_with_data_is_backed_up_before_it_is_migrated(
    tmp_path: Path, clock: FixedClock
) -> None:
    ctx = crm_lib.open_crm(tmp_path / "data", clock=clock)
    crm_lib.services.create_investor(ctx, {"name": "Keep Me Capital"})
    addition = Migration(
        latest_version() + 1, "add_thing", "CREATE TABLE thing (id INTEGER PRIMARY KEY);"
    )
    backups = tmp_path / "data" / "backups"
    assert migrate(
        ctx.db, clock, backup_dir=backups, migrations=[*available_migrations(), addition]
    ) == [addition.version]
    [copy] = list(backups.iterdir())
    assert copy.name.startswith(f"pre-migration-v{latest_version()}-")
    old = connect(copy)
    assert old.execute("SELECT name FROM fundraising_investors").fetchall() == [
        ("Keep Me Capital",)
    ]
    assert "thing" not in old.table_names()


def test_statement_splitter_keeps_triggers_whole() -> None:
    sql = (
        "-- comment; with a semicolon\nCREATE TABLE a (x);\n"
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  UPDATE a SET x = 2;\nEND;\n"
    )
    statements = split_statements(sql)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT id FROM fundraising_investors WHERE deleted_at IS NULL ORDER BY name COLLATE NOCASE, id LIMIT 100",
            "investors_name_live",
        ),
        (
            "SELECT id FROM contacts WHERE lower(email) = lower('a@b.c') AND deleted_at IS NULL",
            "contacts_email_lower",
        ),
        (
            "SELECT id FROM fundraising_commitments WHERE investor_id = 1 AND deleted_at IS NULL",
            "commitments_investor",
        ),
        ("SELECT id FROM fundraising_commitments WHERE fund_id = 1", "commitments_fund"),
        (
            "SELECT id FROM fundraising_contacts WHERE investor_id = 1",
            "fundraising_contacts_investor",
        ),
    ],
)
def test_lookups_the_grid_and_matching_need_use_an_index(
    tmp_path: Path, clock: FixedClock, sql: str, index: str
) -> None:
    db = connect(tmp_path / "crm.db")
    migrate(db, clock)
    plan = " ".join(row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall())
    assert index in plan, plan


def test_every_foreign_key_column_has_an_index(tmp_path: Path, clock: FixedClock) -> None:
    """Unindexed child columns make SQLite scan the child table on parent writes (quadratic)."""
    db = connect(tmp_path / "crm.db")
    migrate(db, clock)
    missing = []
    for table in db.table_names():
        # an INTEGER PRIMARY KEY is the rowid: the table's own b-tree is its index
        leading = {
            column[1]
            for column in db.execute(f"PRAGMA table_info({table})").fetchall()
            if column[5] == 1 and column[2].upper() == "INTEGER"
        }
        for index in db.execute(f"PRAGMA index_list({table})").fetchall():
            if not index[4]:  # index[4] is "partial": unusable for foreign-key checks
                first = db.execute(f"PRAGMA index_info({index[1]})").fetchone()
                leading.add(first[2])
        for fk in db.execute(f"PRAGMA foreign_key_list({table})").fetchall():
            if fk[3] not in leading:
                missing.append(f"{table}.{fk[3]}")
    assert missing == []


def test_a_foreign_sqlite_file_is_backed_up_before_it_is_migrated_in_place(
    tmp_path: Path, clock: FixedClock
) -> None:
    """A SQLite file from elsewhere (no schema_migrations table) that the data folder points at
    gets a copy, listed and verified like any backup, before our tables are written into it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    foreign = connect(data_dir / "crm.db")
    foreign.execute("CREATE TABLE their_notes (id INTEGER PRIMARY KEY, body TEXT)")
    foreign.execute("INSERT INTO their_notes (body) VALUES ('from another program')")
    foreign.conn.close()
    ctx = crm_lib.open_crm(data_dir, clock=clock)
    [copy] = list((data_dir / "backups").glob("pre-migration-v0-*.db"))
    old = connect(copy)
    assert [t for t in old.table_names() if not t.startswith("sqlite_")] == ["their_notes"]
    assert old.execute("SELECT body FROM their_notes").fetchall() == [("from another program",)]
    [listed] = crm_lib.services.list_backups(ctx.as_actor("system:test"))
    assert (listed["file_name"], listed["verify_status"]) == (copy.name, "ok")
    ctx.close()
