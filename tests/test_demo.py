"""The demo fund: realistic shape and deterministic for the same seed and date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import crm_lib
from crm_lib import analytics, services
from crm_lib.demo import TYPES, load_demo_data
from crm_lib.errors import ValidationError

CONTENT = (
    "SELECT name, type, status, list_membership, owner_id, location, website, tags, last_contacted_at,"
    " total_invested FROM fundraising_investors ORDER BY id"
)


def test_default_demo_fund_has_the_promised_shape(tmp_path: Path) -> None:
    ctx = crm_lib.open_crm(tmp_path / "data")
    summary = load_demo_data(ctx, as_of=date(2026, 11, 25))
    assert (summary.funds, summary.investors, summary.users) == (3, 2000, 4)
    assert 4500 <= summary.people <= 5500
    funds = {f["name"]: f for f in services.list_funds(ctx)}
    assert list(funds) == ["Fund I", "Fund II", "Fund III"]
    for name in ("Fund I", "Fund II"):  # closed funds reached their targets
        assert funds[name]["committed"] == pytest.approx(funds[name]["target_size"], rel=0.08)
    assert funds["Fund III"]["committed"] < funds["Fund III"]["target_size"]
    duck = analytics.connect(settings=ctx.settings)
    assert {t for (t,) in duck.sql("SELECT DISTINCT type FROM investors").fetchall()} == set(TYPES)
    lists = services.count_by_list(ctx)
    assert all(lists[name] > 50 for name in ("main", "follow_up", "graveyard", "longshot"))
    assert duck.sql("SELECT count(DISTINCT owner_id) FROM investors").fetchone() == (4,)
    assert duck.sql("SELECT count(*) FROM people WHERE email IS NULL").fetchone() == (0,)
    drift = duck.sql(
        "SELECT count(*) FROM investors i WHERE total_invested != "
        "(SELECT COALESCE(sum(amount), 0) FROM commitments c WHERE c.investor_id = i.id)"
    ).fetchone()
    assert drift == (0,)


def test_same_seed_and_date_give_the_same_fund(tmp_path: Path) -> None:
    contents = []
    for run in ("a", "b", "c"):
        ctx = crm_lib.open_crm(tmp_path / run)
        load_demo_data(ctx, investors=150, seed=3 if run != "c" else 4, as_of=date(2026, 1, 31))
        contents.append(ctx.db.execute(CONTENT).fetchall())
    assert contents[0] == contents[1]
    assert contents[0] != contents[2]


def test_demo_data_refuses_a_database_that_has_investors(tmp_path: Path) -> None:
    ctx = crm_lib.open_crm(tmp_path / "data")
    services.create_investor(ctx, {"name": "Real LP"})
    with pytest.raises(ValidationError, match="already holds 1 investors"):
        load_demo_data(ctx, investors=10)
    assert services.count_by_list(ctx)["all"] == 1
