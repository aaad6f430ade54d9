"""The home page's figures: funds against their targets, investors per list, and what needs
attention, each count agreeing with the grid view a link opens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock, today
from crm_lib.context import Context
from crm_lib.services.investors import LISTS
from crm_lib.services.summary import LIST_LABELS, STALE_AFTER_DAYS


def days_ago(clock: FixedClock, days: int) -> str:
    return (today(clock) - timedelta(days=days)).isoformat()


def names(items: list[dict], key: str) -> list[str]:
    return [e["name"] for e in next(i for i in items if i["key"] == key)["examples"]]


def count(items: list[dict], key: str) -> int:
    return next(i for i in items if i["key"] == key)["count"]


def test_every_list_has_a_label() -> None:
    assert tuple(LIST_LABELS) == LISTS


def test_conversations_going_cold_are_open_active_and_not_contacted_lately(
    ctx: Context, clock: FixedClock
) -> None:
    old, recent = days_ago(clock, STALE_AFTER_DAYS + 10), days_ago(clock, 3)
    for name, values in [
        ("Cold Meeting", {"status": "Meeting", "last_contacted_at": old}),
        ("Never Called", {"status": "Contacted"}),
        ("Warm Meeting", {"status": "Meeting", "last_contacted_at": recent}),
        ("Done Deal", {"status": "Committed", "last_contacted_at": old}),
        ("Buried", {"status": "Meeting", "last_contacted_at": old, "list_membership": "graveyard"}),
        (
            "Long Shot",
            {"status": "Meeting", "last_contacted_at": old, "list_membership": "longshot"},
        ),
    ]:
        services.create_investor(ctx, {"name": name, **values})
    items = services.attention(ctx)
    assert count(items, "going_cold") == 2
    assert names(items, "going_cold") == ["Cold Meeting", "Never Called"]  # oldest contact first
    view = services.grid_preset(ctx, "going_cold")
    assert view is not None and view["name"] == "Conversations going cold"
    page = services.view_page(ctx, view, page_size=50)  # what the grid shows from the link
    assert page.total == 2 and [r["name"] for r in page.rows] == names(items, "going_cold")


def test_prospects_never_contacted_and_investors_without_owner(ctx: Context) -> None:
    owner = services.create_user(ctx, "ann@fund.example", "Ann", "member")
    services.create_investor(ctx, {"name": "Fresh", "status": "Prospect", "owner_id": owner["id"]})
    services.create_investor(ctx, {"name": "No Status", "owner_id": owner["id"]})
    services.create_investor(
        ctx,
        {
            "name": "Called",
            "status": "Prospect",
            "last_contacted_at": "2026-01-05",
            "owner_id": owner["id"],
        },
    )
    services.create_investor(
        ctx, {"name": "Nobody's", "status": "Passed", "last_contacted_at": "2026-01-05"}
    )
    items = services.attention(ctx)
    assert names(items, "never_contacted") == ["Fresh", "No Status"]
    assert names(items, "no_owner") == ["Nobody's"]
    for key in ("never_contacted", "no_owner"):
        view = services.grid_preset(ctx, key)
        assert services.view_page(ctx, view).total == count(items, key)


def test_commitments_without_a_date_name_their_investors(ctx: Context, fund: dict) -> None:
    dated = services.create_investor(ctx, {"name": "Dated"})
    undated = services.create_investor(ctx, {"name": "Undated"})
    gone = services.create_investor(ctx, {"name": "Archived"})
    services.set_commitment(ctx, dated["id"], fund["id"], 1e6, committed_on="2026-03-01")
    services.set_commitment(ctx, undated["id"], fund["id"], 1e6)
    services.set_commitment(ctx, gone["id"], fund["id"], 1e6)
    services.archive_investor(ctx, gone["id"], expected_version=2)
    item = next(i for i in services.attention(ctx) if i["key"] == "undated_commitments")
    assert item["count"] == 1 and item["examples"] == [{"id": undated["id"], "name": "Undated"}]
    assert item["preset"] is None  # the grid cannot filter commitments: no "see all" link


def test_statuses_renamed_away_drop_the_item_instead_of_miscounting(ctx: Context) -> None:
    status = next(f for f in services.list_fields(ctx) if f.key == "status")
    services.update_choices(
        ctx, "status", ["Lead", "Talking", "Won", "Lost"], expected_version=status.version
    )
    assert services.grid_preset(ctx, "going_cold") is None
    assert "going_cold" not in [i["key"] for i in services.attention(ctx)]
    assert services.grid_preset(ctx, "never_contacted") is not None  # blank status still counts


@pytest.mark.parametrize("key", ["unknown", "", "going_cold' OR 1=1"])
def test_a_link_naming_no_preset_opens_nothing(ctx: Context, key: str) -> None:
    assert services.grid_preset(ctx, key) is None


def test_fund_progress_against_target_and_without_one(ctx: Context, fund: dict) -> None:
    seed = services.create_fund(ctx, {"name": "Seed Pool", "vintage_year": 2026})
    acme = services.create_investor(ctx, {"name": "Acme"})
    services.set_commitment(ctx, acme["id"], fund["id"], 35e6, status="soft_circled")
    services.set_commitment(ctx, acme["id"], seed["id"], 2e6)
    progress = {f["fund"]: f for f in services.fund_progress(ctx)}
    assert progress["Fund III"]["progress"] == pytest.approx(0.1)
    assert progress["Fund III"]["soft_circled"] == 35e6
    assert progress["Fund III"]["status_label"] == "Raising"
    assert progress["Seed Pool"]["target_size"] is None
    assert progress["Seed Pool"]["progress"] is None


def test_lists_are_labelled_and_empty_ones_shown(ctx: Context, fund: dict) -> None:
    made = services.create_investor(ctx, {"name": "A", "list_membership": "follow_up"})
    services.set_commitment(ctx, made["id"], fund["id"], 2e6)
    gone = services.create_investor(ctx, {"name": "Gone", "list_membership": "follow_up"})
    services.set_commitment(ctx, gone["id"], fund["id"], 5e6)
    services.archive_investor(ctx, gone["id"], expected_version=2)
    assert services.list_breakdown(ctx) == [
        {"list": "main", "label": "Main", "investors": 0, "committed": 0},
        {"list": "follow_up", "label": "Follow-up", "investors": 1, "committed": 2e6},
        {"list": "graveyard", "label": "Graveyard", "investors": 0, "committed": 0},
        {"list": "longshot", "label": "Longshot", "investors": 0, "committed": 0},
    ]


def test_figures_follow_each_change(ctx: Context, fund: dict) -> None:
    """They are remembered between reads (one pass over the commitments at 100,000 investors
    is worth keeping) until the grid's data changes."""
    made = services.create_investor(ctx, {"name": "A"})
    assert services.fund_progress(ctx)[0]["committed"] == 0
    services.set_commitment(ctx, made["id"], fund["id"], 3e6)
    assert services.fund_progress(ctx)[0]["committed"] == 3e6
    assert services.list_breakdown(ctx)[0]["committed"] == 3e6
    assert count(services.attention(ctx), "never_contacted") == 1
    services.update_field(ctx, made["id"], "last_contacted_at", "2026-11-01", expected_version=2)
    assert count(services.attention(ctx), "never_contacted") == 0
