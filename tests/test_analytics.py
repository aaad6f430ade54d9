"""DuckDB over the CRM: read-only, offline, archived rows hidden, no secrets exposed."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

import duckdb
import pytest

from crm_lib import analytics, services
from crm_lib.context import Context
from crm_lib.errors import DatabaseError
from tests.conftest import make_investors
from tests.locks import posix_locks


def test_views_see_live_rows_and_later_writes(ctx: Context, fund: dict) -> None:
    acme, gone = make_investors(ctx, ["Acme", "Gone"])
    services.set_commitment(ctx, acme["id"], fund["id"], 500)
    services.archive_investor(ctx, gone["id"], expected_version=1)
    duck = analytics.connect(settings=ctx.settings)
    assert duck.sql("SELECT name, total_invested FROM investors").fetchall() == [("Acme", 500.0)]
    assert duck.sql("SELECT fund_name, investor_name, amount FROM commitments").fetchall() == [
        ("Fund III", "Acme", 500.0)
    ]
    services.update_field(ctx, acme["id"], "name", "Acme Holdings", expected_version=2)
    # a connection reads one consistent snapshot; a new one sees later writes
    assert duck.sql("SELECT name FROM investors").fetchall() == [("Acme",)]
    fresh = analytics.connect(settings=ctx.settings)
    assert fresh.sql("SELECT name FROM investors").fetchall() == [("Acme Holdings",)]
    assert fresh.sql(
        "SELECT count(*) FROM audit_log WHERE entity = 'fundraising_investors'"
    ).fetchone() == (5,)


def test_duckdb_never_touches_the_live_file_so_this_process_keeps_its_locks(
    ctx: Context,
) -> None:
    """DuckDB's own SQLite opens and closes the attached file at every scan; on the live file
    that would drop the shared lock our connection holds (and let another process delete the
    live WAL). It reads a snapshot instead."""
    make_investors(ctx, ["Acme"])
    path = ctx.settings.database_path
    assert posix_locks(path, os.getpid()), "an open connection holds a shared lock"
    duck = analytics.connect(settings=ctx.settings)
    for _ in range(3):
        assert duck.sql("SELECT count(*) FROM investors").fetchone() == (1,)
    assert posix_locks(path, os.getpid())
    ctx.db.execute("SELECT count(*) FROM fundraising_investors").fetchone()
    assert posix_locks(path, os.getpid())


def test_snapshots_are_removed_with_their_connection_and_after_a_crash(ctx: Context) -> None:
    folder = ctx.settings.data_dir / "cache" / "analytics"
    duck = analytics.connect(settings=ctx.settings)
    assert len(list(folder.glob("snapshot-*.db"))) == 1
    del duck
    gc.collect()
    assert list(folder.glob("snapshot-*.db")) == []
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (folder / f"snapshot-{dead}-1.db").write_bytes(b"left by a process that died")
    duck = analytics.connect(settings=ctx.settings)
    assert duck.sql("SELECT count(*) FROM investors").fetchone() == (0,)
    assert [p.name for p in folder.glob("snapshot-*.db")] == [
        p.name for p in folder.glob(f"snapshot-{os.getpid()}-*.db")
    ]


def test_the_crm_is_attached_read_only(ctx: Context) -> None:
    duck = analytics.connect(settings=ctx.settings)
    with pytest.raises(duckdb.Error, match="read-only"):
        duck.execute("INSERT INTO crm.fundraising_funds (name) VALUES ('Sneaky Fund')")


def test_users_view_never_shows_password_hashes(ctx: Context) -> None:
    services.create_user(ctx, "maya@fund.example", "Maya")
    duck = analytics.connect(settings=ctx.settings)
    columns = [c[0] for c in duck.sql("DESCRIBE users").fetchall()]
    assert "email" in columns and "password_hash" not in columns


def test_the_extension_loads_from_the_pip_package_without_network(ctx: Context) -> None:
    duck = analytics.connect(settings=ctx.settings)
    loaded = duck.sql(
        "SELECT loaded, install_path FROM duckdb_extensions() WHERE extension_name = 'sqlite_scanner'"
    ).fetchone()
    assert loaded[0] is True
    assert (ctx.settings.data_dir / "cache").exists()


def test_a_missing_database_gets_a_clear_error(tmp_path) -> None:
    with pytest.raises(DatabaseError, match=r"No CRM database .* run `crm init`"):
        analytics.connect(tmp_path / "empty")
