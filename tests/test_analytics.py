"""DuckDB over the CRM: read-only, offline, archived rows hidden, no secrets exposed."""

from __future__ import annotations

import duckdb
import pytest

from crm_lib import analytics, services
from crm_lib.context import Context
from crm_lib.errors import DatabaseError
from tests.conftest import make_investors


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
    assert duck.sql("SELECT name FROM investors").fetchall() == [("Acme Holdings",)]
    assert duck.sql(
        "SELECT count(*) FROM audit_log WHERE entity = 'fundraising_investors'"
    ).fetchone() == (5,)


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
