"""The grid's side of the pipeline on a real SQLite file: a stage typed in a fund's stage
column flags the investor (owner from the grid's Owner, expected amount from its commitment),
an expected amount typed flags it too, both sides edit the same opportunity (a stale side gets
a conflict), reaching Committed proposes the commitment, clearing the flag closes it as lost
and flagging again reopens it; a closed fund has no pipeline columns."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.services.pipeline_grid import UNFLAGGED, expected_column, stage_column


@pytest.fixture
def grid(ctx: Context) -> dict:
    bob = services.create_user(ctx, "bob@fund.example", "Bob", "member")
    fund = services.create_fund(ctx, {"name": "Fund III", "target_size": 300e6})
    closed = services.create_fund(ctx, {"name": "Fund I", "status": "closed"})
    acme = services.create_investor(ctx, {"name": "Acme Capital", "owner_id": bob["id"]})
    return {
        "member": ctx.as_user(bob),
        "bob": bob["id"],
        "fund": fund["id"],
        "closed": closed["id"],
        "acme": acme["id"],
    }


def _row(ctx: Context, grid: dict) -> dict:
    page = services.grid_page(ctx, {"list_membership": "all"})
    return next(r for r in page.rows if r["id"] == grid["acme"])


def _shown(ctx: Context, grid: dict) -> dict | None:
    return _row(ctx, grid)["opportunities"].get(grid["fund"])


def test_a_stage_typed_in_the_grid_flags_the_investor_from_its_grid_fields(
    ctx: Context, grid: dict
) -> None:
    member, stage = grid["member"], stage_column(grid["fund"])
    services.set_commitment(ctx, grid["acme"], grid["fund"], 3e6)  # a soft figure already
    opened = services.set_pipeline_cell(member, grid["acme"], stage, "meeting", opportunity=None)
    assert (opened["stage_name"], opened["owner_id"], opened["expected_amount"]) == (
        "Meeting",
        grid["bob"],
        3e6,
    )
    row = _row(ctx, grid)
    assert (row[stage], row[expected_column(grid["fund"])]) == ("Meeting", 3e6)
    assert stage_column(grid["closed"]) not in row  # a closed fund has no pipeline columns
    with pytest.raises(ValidationError, match="No stage is called 'Term sheet'"):
        services.set_pipeline_cell(
            member, grid["acme"], stage, "Term sheet", opportunity=_shown(ctx, grid)
        )


def test_both_sides_edit_one_opportunity_and_the_stale_side_gets_a_conflict(
    ctx: Context, grid: dict
) -> None:
    member = grid["member"]
    expected = expected_column(grid["fund"])
    made = services.set_pipeline_cell(member, grid["acme"], expected, "5,000,000", opportunity=None)
    assert (made["stage_name"], made["expected_amount"]) == ("Prospect", 5e6)
    grid_copy = _shown(ctx, grid)
    # the board moves it ...
    services.move_opportunity(
        member, made["id"], _stage_id(ctx, "Diligence"), expected_version=made["version"]
    )
    # ... so the grid's edit on the copy it showed is refused, writing nothing
    with pytest.raises(ConflictError):
        services.set_pipeline_cell(member, grid["acme"], expected, 7e6, opportunity=grid_copy)
    assert services.get_opportunity(ctx, made["id"])["expected_amount"] == 5e6
    fresh = _shown(ctx, grid)
    services.set_pipeline_cell(member, grid["acme"], expected, 7e6, opportunity=fresh)
    board = services.pipeline_board(member, grid["fund"])
    [card] = next(c for c in board["columns"] if c["name"] == "Diligence")["cards"]
    assert card["expected_amount"] == 7e6  # what the grid typed, on the board


def test_committed_from_the_grid_proposes_the_commitment(ctx: Context, grid: dict) -> None:
    member, stage = grid["member"], stage_column(grid["fund"])
    services.set_pipeline_cell(
        member, grid["acme"], expected_column(grid["fund"]), 2e6, opportunity=None
    )
    won = services.set_pipeline_cell(
        member, grid["acme"], stage, "Committed", opportunity=_shown(ctx, grid)
    )
    assert won["proposed_commitment"]["amount"] == 2e6
    assert _row(ctx, grid)[f"fund:{grid['fund']}"] is None  # nothing written silently
    assert _row(ctx, grid)[stage] == "Committed"  # a won opportunity still shows its stage


def test_clearing_the_flag_closes_as_lost_and_flagging_again_reopens(
    ctx: Context, grid: dict
) -> None:
    member, stage = grid["member"], stage_column(grid["fund"])
    made = services.set_pipeline_cell(member, grid["acme"], stage, "Intro", opportunity=None)
    assert (
        services.set_pipeline_cell(member, grid["acme"], stage, "", opportunity=_shown(ctx, grid))
        is None
    )
    closed = services.get_opportunity(ctx, made["id"])
    assert (closed["status"], closed["lost_reason"]) == ("lost", UNFLAGGED)
    row = _row(ctx, grid)
    assert stage not in row and grid["fund"] not in row["opportunities"]
    again = services.set_pipeline_cell(member, grid["acme"], stage, "Meeting", opportunity=None)
    assert again["id"] == made["id"] and again["status"] == "open"  # the same record, reopened
    history = [h["to_stage"] for h in services.stage_history(ctx, made["id"])]
    assert history == ["Intro", "Lost", "Meeting"]
    lost = services.set_pipeline_cell(
        member, grid["acme"], stage, "Lost", opportunity=_shown(ctx, grid)
    )
    assert lost is None and services.get_opportunity(ctx, made["id"])["status"] == "lost"


def _stage_id(ctx: Context, name: str) -> int:
    return next(s["id"] for s in services.list_stages(ctx) if s["name"] == name)
