"""The footer's totals from remembered ids and per-investor arrays (crm_lib.grid.column_values)
equal SQLite's sums after random creates, edits, archives, restores, commitment changes and bulk
imports, whichever connection wrote them; they are caught up, not read again, per write."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

import crm_lib
from crm_lib import services
from crm_lib.context import Context
from crm_lib.grid.column_values import COLUMN_VALUES
from crm_lib.grid.ordered_ids import REGISTRY
from crm_lib.services.investors import investor_totals
from tests.grid.writes import commit, investor_ids, live_commitment, restore

VIEWS: list[dict[str, Any]] = [
    {},
    {"list_membership": "main"},
    {"archived": True},
    {"conditions": [("check_size", "gt", 1000)]},
    {
        "filter_tree": {
            "op": "or",
            "conditions": [
                {"field": "status", "operator": "has_any_of", "value": ["Meeting"]},
                {"field": "meetings", "operator": "empty", "value": None},
            ],
        },
        "group_by": "status",
    },
]
STATUSES = [None, "Prospect", "Meeting", "Committed"]


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    REGISTRY.clear()
    COLUMN_VALUES.clear()
    yield
    REGISTRY.clear()
    COLUMN_VALUES.clear()


@pytest.fixture
def funds(ctx: Context) -> list[dict]:
    services.add_field(ctx, "Check size", "currency")
    services.add_field(ctx, "Meetings", "number")
    services.add_field(ctx, "Allocation", "percent")
    return [services.create_fund(ctx, {"name": name}) for name in ("Fund I", "Fund II")]


def by_sql(ctx: Context, view: dict[str, Any]) -> services.ViewTotals:
    """The same totals the plain way: inside a transaction they are read with SQL."""
    ctx.db.conn.execute("BEGIN")
    try:
        return investor_totals(ctx, **view)
    finally:
        ctx.db.conn.execute("COMMIT")


def assert_totals_exact(ctx: Context) -> None:
    for view in VIEWS:
        assert investor_totals(ctx, **view) == by_sql(ctx, view), view


def random_writes(ctx: Context, rng: random.Random, funds: list[dict], n: int) -> None:
    for _ in range(n):
        live, gone = investor_ids(ctx)
        action = rng.random()
        if action < 0.15 or not live:
            services.create_investor(
                ctx,
                {
                    "name": f"LP {rng.randrange(1000)}",
                    "check_size": rng.choice([None, 500, 2500.5]),
                    "meetings": rng.choice([None, 1, 3]),
                    "list_membership": rng.choice(["main", "follow_up"]),
                },
            )
            continue
        investor = services.get_investor(ctx, rng.choice(live))["investor"]
        version = investor["version"]
        fund = rng.choice(funds)
        commitment = live_commitment(ctx, investor["id"], fund["id"])
        if action < 0.25:
            services.archive_investor(ctx, investor["id"], expected_version=version)
        elif action < 0.3 and gone:
            restore(ctx, rng.choice(gone))
        elif action < 0.45:
            commit(ctx, investor["id"], fund["id"], rng.choice([0, 500, 2500]))
        elif action < 0.5 and commitment:
            services.remove_commitment(ctx, commitment[0], expected_version=commitment[1])
        else:
            key, value = rng.choice(
                [
                    ("check_size", rng.choice([None, 0, 750, 1e6])),
                    ("meetings", rng.choice([None, 2, 7])),
                    ("allocation", rng.choice([None, 0.1, 0.35])),
                    ("status", rng.choice(STATUSES)),
                    ("notes", f"note {rng.random()}"),  # no footer column: nothing to re-read
                    ("list_membership", rng.choice(["main", "follow_up"])),
                ]
            )
            services.update_field(ctx, investor["id"], key, value, expected_version=version)


def test_random_writes_keep_every_views_totals_exact_by_catching_up(
    ctx: Context, funds: list[dict]
) -> None:
    rng = random.Random(11)
    random_writes(ctx, rng, funds, 40)
    assert_totals_exact(ctx)
    reads = COLUMN_VALUES.counts["read"]
    for _round in range(10):
        random_writes(ctx, rng, funds, 6)
        assert_totals_exact(ctx)
    assert COLUMN_VALUES.counts["read"] == reads  # never read again: caught up every time
    assert COLUMN_VALUES.counts["caught up"] >= 10


def test_a_bulk_import_and_another_connections_writes_are_caught_up(
    ctx: Context, bob: Context, funds: list[dict]
) -> None:
    services.create_investor(ctx, {"name": "First", "check_size": 100})
    assert investor_totals(ctx).sums["check_size"] == 100
    services.bulk_create_investors(
        bob,
        [
            {
                "name": f"Imported {n}",
                "check_size": n,
                "commitments": [{"fund_id": funds[n % 2]["id"], "amount": 10 * n}],
            }
            for n in range(1, 1501)  # past the arrays' spare room: they grow
        ],
    )
    totals = investor_totals(ctx)
    assert totals == by_sql(ctx, {})
    assert totals.sums["check_size"] == 100 + sum(range(1, 1501))
    assert totals.fund_sums == {
        funds[0]["id"]: float(sum(10 * n for n in range(2, 1501, 2))),
        funds[1]["id"]: float(sum(10 * n for n in range(1, 1501, 2))),
    }


def test_a_new_footer_field_and_a_changed_type_are_read_afresh(
    ctx: Context, funds: list[dict]
) -> None:
    investor = services.create_investor(ctx, {"name": "LP", "check_size": 40, "meetings": 2})
    assert investor_totals(ctx).sums == by_sql(ctx, {}).sums
    services.add_field(ctx, "Tickets", "number")
    services.update_field(ctx, investor["id"], "tickets", 5, expected_version=investor["version"])
    assert investor_totals(ctx).sums["tickets"] == 5
    field = next(f for f in services.list_fields(ctx) if f.key == "meetings")
    services.change_field_type(ctx, field.key, "text", expected_version=field.version)
    totals = investor_totals(ctx)
    assert "meetings" not in totals.sums and totals == by_sql(ctx, {})


def test_a_commitment_that_leaves_the_investors_total_as_it_was_still_counts(
    ctx: Context, funds: list[dict]
) -> None:
    """A zero commitment changes no total_invested, yet its fund now shows in the footer: the
    change log names the investor of every commitment written."""
    investor = services.create_investor(ctx, {"name": "LP"})
    assert investor_totals(ctx).fund_sums == {}
    services.set_commitment(ctx, investor["id"], funds[1]["id"], 0, expected_version=None)
    assert investor_totals(ctx).fund_sums == {funds[1]["id"]: 0.0} == by_sql(ctx, {}).fund_sums
    assert COLUMN_VALUES.counts["caught up"] == 1


def test_a_restore_and_a_pruned_log_are_read_afresh(ctx: Context, funds: list[dict]) -> None:
    """After a restore (another file's history) or with the log pruned past the arrays'
    version, the arrays are read again: the footer shows the restored numbers, not ours."""
    for n in range(1, 11):
        services.create_investor(ctx, {"name": f"LP {n}", "check_size": n})
    backup = services.create_backup(ctx)
    late = services.create_investor(ctx, {"name": "After the backup", "check_size": 1000})
    services.set_commitment(ctx, late["id"], funds[0]["id"], 70, expected_version=None)
    assert investor_totals(ctx).sums["check_size"] == 1055
    services.restore_backup(ctx, backup["id"])
    reopened = crm_lib.open_crm(settings=ctx.settings, actor="system:test")
    try:
        reads = COLUMN_VALUES.counts["read"]
        totals = investor_totals(reopened)
        assert totals.sums["check_size"] == 55 and totals.fund_sums == {}
        assert COLUMN_VALUES.counts["read"] == reads + 1
        services.create_investor(reopened, {"name": "Caught up", "check_size": 5})
        assert investor_totals(reopened).sums["check_size"] == 60
        assert COLUMN_VALUES.counts["read"] == reads + 1
        reopened.db.execute("DELETE FROM grid_changes")  # pruned past the arrays' version
        services.create_investor(reopened, {"name": "New", "check_size": 5})
        assert investor_totals(reopened) == by_sql(reopened, {})
        assert investor_totals(reopened).sums["check_size"] == 65
        assert COLUMN_VALUES.counts["read"] == reads + 2
    finally:
        reopened.close()
