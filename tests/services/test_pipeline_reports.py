"""What the pipeline page reads beside the board, on a real SQLite file: the forecast by
expected close month, the funnel (a lost opportunity counts for the stages it passed), the
board narrowed to a saved view's investors, and the investors going cold for home."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ValidationError


@pytest.fixture
def team(ctx: Context) -> dict:
    member = services.create_user(ctx, "bob@fund.example", "Bob", "member")
    carol = services.create_user(ctx, "carol@fund.example", "Carol", "member")
    fund = services.create_fund(ctx, {"name": "Fund III", "target_size": 300e6})
    ids = {
        name: services.create_investor(
            ctx, {"name": name, "owner_id": member["id"], "location": where}
        )["id"]
        for name, where in (
            ("Acme Capital", "Boston"),
            ("Bloom Pension", "Oslo"),
            ("Cedar Trust", "Boston"),
            ("Dune Family Office", "Dubai"),
        )
    }
    return {
        "member": ctx.as_user(member),
        "member_id": member["id"],
        "carol_id": carol["id"],
        "fund": fund["id"],
        "ids": ids,
        "stages": {s["name"]: s for s in services.list_stages(ctx)},
    }


def _open(team: dict, name: str, stage: str, **values: object) -> dict:
    return services.create_opportunity(
        team["member"],
        team["ids"][name],
        team["fund"],
        {"stage_id": team["stages"][stage]["id"], **values},
    )


def test_the_forecast_groups_open_opportunities_by_expected_close_month(team: dict) -> None:
    _open(team, "Acme Capital", "Meeting", expected_amount=10e6, expected_close="2027-03-10")
    _open(team, "Bloom Pension", "Diligence", expected_amount=4e6, expected_close="2027-03-28")
    _open(team, "Cedar Trust", "Prospect", expected_amount=1e6, expected_close="2027-01-05")
    _open(team, "Dune Family Office", "Intro", expected_amount=2e6)
    forecast = services.pipeline_forecast(team["member"], team["fund"])
    assert [(r["month"], r["count"], r["expected"], r["weighted"]) for r in forecast] == [
        ("2027-01", 1, 1e6, pytest.approx(1e6 * 0.1)),
        ("2027-03", 2, 14e6, pytest.approx(10e6 * 0.3 + 4e6 * 0.5)),
        ("No expected close", 1, 2e6, pytest.approx(2e6 * 0.2)),
    ]


def test_the_funnel_counts_each_opportunity_at_the_furthest_stage_it_reached(
    team: dict,
) -> None:
    member, stages = team["member"], team["stages"]
    acme = _open(team, "Acme Capital", "Prospect")
    for stage in ("Intro", "Meeting", "Diligence"):
        acme = services.move_opportunity(
            member, acme["id"], stages[stage]["id"], expected_version=acme["version"]
        )
    services.close_opportunity(
        member, acme["id"], "Allocation went elsewhere", expected_version=acme["version"]
    )  # lost after Diligence: still counts for Prospect to Diligence
    _open(team, "Bloom Pension", "Meeting")  # created straight into Meeting
    _open(team, "Cedar Trust", "Prospect")
    funnel = services.pipeline_funnel(member, team["fund"])
    assert [(f["name"], f["reached"]) for f in funnel] == [
        ("Prospect", 3),
        ("Intro", 2),
        ("Meeting", 2),
        ("Diligence", 1),
        ("Soft circle", 0),
        ("Committed", 0),
    ]
    assert funnel[0]["conversion"] is None
    assert funnel[1]["conversion"] == pytest.approx(2 / 3)
    assert funnel[3]["conversion"] == pytest.approx(0.5)
    assert funnel[5]["conversion"] is None  # nobody reached Soft circle


def test_a_saved_view_narrows_the_board_and_its_totals(team: dict) -> None:
    member = team["member"]
    _open(team, "Acme Capital", "Meeting", expected_amount=10e6)
    _open(team, "Bloom Pension", "Meeting", expected_amount=4e6)
    boston = services.create_view(
        member,
        {
            "name": "Boston",
            "filters": {"field": "location", "operator": "eq", "value": "Boston"},
        },
    )
    ids = services.view_investor_ids(member, boston["id"])
    assert sorted(ids) == sorted([team["ids"]["Acme Capital"], team["ids"]["Cedar Trust"]])
    board = services.pipeline_board(member, team["fund"], investor_ids=ids)
    meeting = next(c for c in board["columns"] if c["name"] == "Meeting")
    assert [card["investor_name"] for card in meeting["cards"]] == ["Acme Capital"]
    assert (meeting["count"], meeting["expected"]) == (1, 10e6)
    whole = services.pipeline_board(member, team["fund"])
    assert next(c for c in whole["columns"] if c["name"] == "Meeting")["count"] == 2


def test_going_cold_lists_open_opportunities_and_committed_investors_without_two_way_touch(
    ctx: Context, team: dict, clock: FixedClock
) -> None:
    member = team["member"]
    _open(team, "Acme Capital", "Meeting", owner_id=team["carol_id"])
    _open(team, "Bloom Pension", "Intro")
    services.set_commitment(ctx, team["ids"]["Cedar Trust"], team["fund"], 5e6)
    recent = (clock.now() - timedelta(days=3)).isoformat()
    old = (clock.now() - timedelta(days=50)).isoformat()
    for name, inbound, outbound in (
        ("Acme Capital", recent, recent),  # two-way and recent: warm
        ("Bloom Pension", old, recent),  # they have not written back for 50 days
        ("Cedar Trust", None, None),  # committed and never emailed
    ):
        ctx.db.execute(
            "UPDATE fundraising_investors SET email_last_inbound_at = ?,"
            " email_last_outbound_at = ? WHERE id = ?",
            [inbound, outbound, team["ids"][name]],
        )
    cold = services.going_cold(member, days=30)
    assert [(r["name"], r["reason"]) for r in cold["rows"]] == [
        ("Cedar Trust", "Committed"),  # never touched comes first
        ("Bloom Pension", "Fund III · Intro"),
    ]
    assert cold["total"] == 2 and cold["rows"][1]["last_touch_at"] == recent
    assert services.going_cold(member, days=60)["total"] == 1  # Bloom's 50 days are fine now
    mine = services.going_cold(member, owner_id=team["carol_id"])
    assert mine["total"] == 0  # Carol owns only Acme, which is warm
    with pytest.raises(ValidationError, match="cold_days"):
        services.going_cold(member, days=0)
