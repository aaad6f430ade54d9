"""Commitments and the total_invested rollup, which must always equal the live commitments."""

from __future__ import annotations

import random

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, ValidationError
from tests.conftest import make_investors

DRIFT_SQL = (
    "SELECT count(*) FROM fundraising_investors i WHERE i.total_invested !="
    " (SELECT ROUND(COALESCE(SUM(amount), 0), 2) FROM fundraising_commitments c"
    "  WHERE c.investor_id = i.id AND c.deleted_at IS NULL)"
)


def total(ctx: Context, investor_id: int) -> float:
    return services.get_investor(ctx, investor_id)["investor"]["total_invested"]


def test_rollup_follows_set_change_and_remove(ctx: Context, fund: dict) -> None:
    fund_two = services.create_fund(ctx, {"name": "Fund II", "vintage_year": 2021})
    [acme] = make_investors(ctx, ["Acme"])
    first = services.set_commitment(ctx, acme["id"], fund["id"], 1_000_000.10)
    services.set_commitment(ctx, acme["id"], fund_two["id"], "250,000.20", status="closed")
    assert total(ctx, acme["id"]) == 1_250_000.30
    changed = services.set_commitment(
        ctx, acme["id"], fund["id"], 2_000_000, expected_version=first["version"]
    )
    assert total(ctx, acme["id"]) == 2_250_000.20
    services.remove_commitment(ctx, changed["id"], expected_version=changed["version"])
    assert total(ctx, acme["id"]) == 250_000.20
    assert services.get_fund(ctx, fund["id"])["committed"] == 0


def test_negative_or_missing_amounts_are_refused_and_nothing_is_written(
    ctx: Context, fund: dict
) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    with pytest.raises(ValidationError, match="cannot be negative"):
        services.set_commitment(ctx, acme["id"], fund["id"], -5)
    with pytest.raises(ValidationError, match="needs an amount"):
        services.set_commitment(ctx, acme["id"], fund["id"], "")
    with pytest.raises(ValidationError, match="status must be one of"):
        services.set_commitment(ctx, acme["id"], fund["id"], 5, status="maybe")
    assert ctx.db.execute("SELECT count(*) FROM fundraising_commitments").fetchone() == (0,)
    assert total(ctx, acme["id"]) == 0


def test_one_live_commitment_per_fund_a_concurrent_create_is_a_conflict(
    ctx: Context, bob: Context, fund: dict
) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    services.set_commitment(ctx, acme["id"], fund["id"], 100)
    with pytest.raises(ConflictError) as caught:
        services.set_commitment(bob, acme["id"], fund["id"], 999)  # Bob saw no commitment
    assert caught.value.updated_by == "alice@fund.example"
    assert total(ctx, acme["id"]) == 100


def test_commitments_need_a_live_investor_and_fund(ctx: Context, fund: dict) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    with pytest.raises(NotFound, match="No fund with id 99"):
        services.set_commitment(ctx, acme["id"], 99, 100)
    with pytest.raises(NotFound, match="No investor with id 42"):
        services.set_commitment(ctx, 42, fund["id"], 100)


def test_a_fund_with_live_commitments_cannot_be_archived(ctx: Context, fund: dict) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    services.set_commitment(ctx, acme["id"], fund["id"], 100)
    with pytest.raises(ValidationError, match="still has 1 live commitments"):
        services.archive_fund(ctx, fund["id"], expected_version=1)


def test_fund_names_are_unique_and_validated(ctx: Context, fund: dict) -> None:
    with pytest.raises(ValidationError, match="already exists"):
        services.create_fund(ctx, {"name": "fund iii"})
    with pytest.raises(ValidationError, match="Vintage year must be a year"):
        services.create_fund(ctx, {"name": "Fund IV", "vintage_year": 24.5})


def test_rollup_stays_consistent_through_a_random_sequence_of_changes(
    ctx: Context, fund: dict
) -> None:
    funds = [fund] + [services.create_fund(ctx, {"name": f"Fund {n}"}) for n in ("A", "B")]
    investors = make_investors(ctx, [f"Investor {n}" for n in range(6)])
    rng = random.Random(5)
    for _ in range(120):
        investor, chosen = rng.choice(investors), rng.choice(funds)
        existing = [
            c
            for c in services.get_investor(ctx, investor["id"])["commitments"]
            if c["fund_id"] == chosen["id"]
        ]
        if existing and rng.random() < 0.3:
            services.remove_commitment(
                ctx, existing[0]["id"], expected_version=existing[0]["version"]
            )
        else:
            version = existing[0]["version"] if existing else None
            amount = round(rng.uniform(0, 5e6), 2)
            services.set_commitment(
                ctx, investor["id"], chosen["id"], amount, expected_version=version
            )
    assert ctx.db.execute(DRIFT_SQL).fetchone() == (0,)
    assert sum(total(ctx, i["id"]) for i in investors) == pytest.approx(
        sum(f["committed"] for f in services.list_funds(ctx))
    )
