"""The pipeline on a real SQLite file: the default stages, admins configure them, one open
opportunity per investor and fund, stage moves close and reopen it, flagging reopens rather than
duplicating, versions checked, the stage history from the audit log, totals per stage, soft
delete everywhere, and the DuckDB views analysts and questions read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_lib import services
from crm_lib.analytics import connect
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, PermissionDenied, ValidationError


@pytest.fixture
def team(ctx: Context) -> dict:
    admin = services.create_user(ctx, "alice@fund.example", "Alice", "admin")
    member = services.create_user(ctx, "bob@fund.example", "Bob", "member")
    fund = services.create_fund(ctx, {"name": "Fund III", "target_size": 300e6})
    acme = services.create_investor(ctx, {"name": "Acme Capital", "owner_id": member["id"]})
    bloom = services.create_investor(ctx, {"name": "Bloom Pension"})
    stages = {s["name"]: s for s in services.list_stages(ctx)}
    return {
        "admin": ctx.as_user(admin),
        "member": ctx.as_user(member),
        "member_id": member["id"],
        "fund": fund["id"],
        "acme": acme["id"],
        "bloom": bloom["id"],
        "stages": stages,
    }


def test_the_default_stages_are_in_order_with_their_probabilities(ctx: Context) -> None:
    stages = services.list_stages(ctx)
    assert [(s["name"], s["probability"], s["kind"]) for s in stages] == [
        ("Prospect", 0.10, "open"),
        ("Intro", 0.20, "open"),
        ("Meeting", 0.30, "open"),
        ("Diligence", 0.50, "open"),
        ("Soft circle", 0.75, "open"),
        ("Committed", 1.0, "won"),
        ("Lost", 0.0, "lost"),
    ]


def test_admins_configure_stages_and_members_may_not(team: dict) -> None:
    admin, member = team["admin"], team["member"]
    made = services.create_stage(admin, {"name": "  Term  sheet ", "probability": "60%"})
    assert (made["name"], made["probability"], made["position"]) == ("Term sheet", 0.6, 8)
    with pytest.raises(PermissionDenied):
        services.create_stage(member, {"name": "Nope", "probability": 0.5})
    with pytest.raises(ValidationError, match="already exists"):
        services.create_stage(admin, {"name": "term SHEET", "probability": 0.5})
    with pytest.raises(ValidationError, match="between 0% and 100%"):
        services.create_stage(admin, {"name": "Odd", "probability": "150%"})
    renamed = services.update_stage(
        admin, made["id"], {"name": "Term sheet signed"}, expected_version=made["version"]
    )
    with pytest.raises(ConflictError):
        services.update_stage(admin, made["id"], {"name": "x"}, expected_version=made["version"])
    lost = team["stages"]["Lost"]
    with pytest.raises(ValidationError, match="only lost stage"):
        services.archive_stage(admin, lost["id"], expected_version=lost["version"])
    services.archive_stage(admin, renamed["id"], expected_version=renamed["version"])
    assert "Term sheet signed" not in [s["name"] for s in services.list_stages(admin)]


def test_one_open_opportunity_per_investor_and_fund_with_the_investors_owner(team: dict) -> None:
    member = team["member"]
    made = services.create_opportunity(
        member, team["acme"], team["fund"], {"expected_amount": "$5,000,000"}
    )
    assert made["stage_name"] == "Prospect" and made["status"] == "open"
    assert made["owner_id"] == team["member_id"] and made["owner_name"] == "Bob"
    assert made["probability_used"] == 0.10 and made["weighted_amount"] == 500_000
    with pytest.raises(ValidationError, match=f"Opportunity {made['id']} is already open"):
        services.create_opportunity(member, team["acme"], team["fund"])
    with pytest.raises(NotFound):
        services.create_opportunity(member, 999, team["fund"])
    with pytest.raises(ValidationError, match="Unknown opportunity field"):
        services.create_opportunity(member, team["bloom"], team["fund"], {"stage": "Intro"})


def test_moves_close_and_reopen_and_flagging_reopens_instead_of_duplicating(
    team: dict, clock: FixedClock
) -> None:
    member, stages = team["member"], team["stages"]
    made = services.create_opportunity(member, team["bloom"], team["fund"])
    clock.advance(days=3)
    moved = services.move_opportunity(
        member, made["id"], stages["Meeting"]["id"], expected_version=made["version"]
    )
    assert moved["stage_name"] == "Meeting" and moved["days_in_stage"] == 0
    clock.advance(days=5)
    assert services.get_opportunity(member, made["id"])["days_in_stage"] == 5
    with pytest.raises(ValidationError, match="Say why it was lost"):
        services.move_opportunity(
            member, made["id"], stages["Lost"]["id"], expected_version=moved["version"]
        )
    lost = services.close_opportunity(
        member, made["id"], "Allocation closed for 2027", expected_version=moved["version"]
    )
    assert (lost["status"], lost["stage_name"]) == ("lost", "Lost")
    assert lost["closed_at"] is not None and lost["lost_reason"] == "Allocation closed for 2027"
    assert services.list_opportunities(member, fund_id=team["fund"]) == []
    again = services.flag_investor(member, team["bloom"], team["fund"])
    assert again["id"] == made["id"] and again["status"] == "open"
    assert again["stage_name"] == "Prospect" and again["lost_reason"] == ""
    assert again["closed_at"] is None
    assert services.flag_investor(member, team["bloom"], team["fund"])["id"] == made["id"]
    history = services.stage_history(member, made["id"])
    assert [(h["from_stage"], h["to_stage"]) for h in history] == [
        (None, "Prospect"),
        ("Prospect", "Meeting"),
        ("Meeting", "Lost"),
        ("Lost", "Prospect"),
    ]
    assert {h["actor"] for h in history} == {"bob@fund.example"}


def test_a_stale_version_is_a_conflict_and_nothing_is_written(team: dict) -> None:
    member = team["member"]
    made = services.create_opportunity(member, team["acme"], team["fund"])
    services.update_opportunity(
        member, made["id"], {"next_step": "Send the deck"}, expected_version=made["version"]
    )
    with pytest.raises(ConflictError):
        services.update_opportunity(
            member, made["id"], {"expected_amount": 1}, expected_version=made["version"]
        )
    shown = services.get_opportunity(member, made["id"])
    assert shown["expected_amount"] is None and shown["next_step"] == "Send the deck"


def test_summary_per_stage_with_weighted_totals_against_the_target(team: dict) -> None:
    member, stages = team["member"], team["stages"]
    a = services.create_opportunity(
        member,
        team["acme"],
        team["fund"],
        {"expected_amount": 10e6, "stage_id": stages["Diligence"]["id"]},
    )
    services.create_opportunity(
        member, team["bloom"], team["fund"], {"expected_amount": 4e6, "probability": "90%"}
    )
    summary = services.pipeline_summary(member, team["fund"])
    by_stage = {s["name"]: s for s in summary["stages"]}
    assert (by_stage["Diligence"]["count"], by_stage["Diligence"]["weighted"]) == (1, 5e6)
    assert (by_stage["Prospect"]["count"], by_stage["Prospect"]["weighted"]) == (1, 3.6e6)
    assert summary["open_expected"] == 14e6 and summary["open_weighted"] == 8.6e6
    assert summary["target_size"] == 300e6 and summary["committed"] == 0
    services.archive_investor(member, team["acme"], expected_version=1)
    assert services.pipeline_summary(member, team["fund"])["open_count"] == 1
    with pytest.raises(NotFound):
        services.get_opportunity(member, a["id"])  # an archived investor's: on no read path


def test_duckdb_views_show_live_opportunities_and_tasks(team: dict, ctx: Context) -> None:
    member = team["member"]
    kept = services.create_opportunity(member, team["acme"], team["fund"], {"expected_amount": 2})
    gone = services.create_opportunity(member, team["bloom"], team["fund"])
    services.archive_opportunity(member, gone["id"], expected_version=gone["version"])
    services.create_task(member, {"title": "Call Acme", "investor_id": team["acme"]})
    con = connect(settings=ctx.settings)
    rows = con.execute(
        "SELECT id, stage, probability_used, investor_name FROM opportunities"
    ).fetchall()
    assert rows == [(kept["id"], "Prospect", 0.10, "Acme Capital")]
    assert con.execute("SELECT title, assignee FROM tasks").fetchall() == [
        ("Call Acme", "bob@fund.example")
    ]


def test_a_commitment_entered_in_the_grid_wins_the_open_opportunity_in_one_transaction(
    team: dict,
) -> None:
    member, stages = team["member"], team["stages"]
    made = services.create_opportunity(
        member,
        team["acme"],
        team["fund"],
        {"expected_amount": 5e6, "stage_id": stages["Soft circle"]["id"]},
    )
    soft = services.set_commitment(member, team["acme"], team["fund"], 1e6, status="soft_circled")
    assert services.get_opportunity(member, made["id"])["status"] == "open"  # soft: no move
    services.set_commitment(
        member, team["acme"], team["fund"], "$4,500,000", expected_version=soft["version"]
    )
    won = services.get_opportunity(member, made["id"])
    assert (won["status"], won["stage_name"], won["expected_amount"]) == ("won", "Committed", 4.5e6)
    assert won["closed_at"] is not None
    history = services.stage_history(member, made["id"])
    assert [h["to_stage"] for h in history][-1] == "Committed"
    # the same transaction: the commitment's change and the move share one txn in the log
    [move_txn] = member.db.execute(
        "SELECT txn FROM audit_log WHERE entity = 'opportunities' AND entity_id = ?"
        " AND field = 'stage_id' ORDER BY id DESC LIMIT 1",
        [made["id"]],
    ).fetchone()
    [commit_txn] = member.db.execute(
        "SELECT txn FROM audit_log WHERE entity = 'fundraising_commitments' AND field = 'status'"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert move_txn == commit_txn


def test_a_commitment_without_an_open_opportunity_moves_nothing(team: dict) -> None:
    member = team["member"]
    services.set_commitment(member, team["bloom"], team["fund"], 2e6)
    assert services.list_opportunities(member, investor_id=team["bloom"], status=None) == []


def test_reaching_committed_proposes_the_commitment_and_writes_nothing(team: dict) -> None:
    member, stages = team["member"], team["stages"]
    made = services.create_opportunity(
        member, team["bloom"], team["fund"], {"expected_amount": 3e6}
    )
    won = services.move_opportunity(
        member, made["id"], stages["Committed"]["id"], expected_version=made["version"]
    )
    proposal = won["proposed_commitment"]
    assert proposal == {
        "investor_id": team["bloom"],
        "fund_id": team["fund"],
        "amount": 3e6,
        "current_amount": None,
        "expected_version": None,
    }
    assert services.list_commitments(member, investor_id=team["bloom"])["rows"] == []  # proposed
    services.set_commitment(
        member, proposal["investor_id"], proposal["fund_id"], proposal["amount"]
    )
    rows = services.list_commitments(member, investor_id=team["bloom"])["rows"]
    assert [c["amount"] for c in rows] == [3e6]


def test_the_board_has_every_stage_its_cards_and_who_is_going_cold(
    team: dict, ctx: Context, clock: FixedClock
) -> None:
    member, stages = team["member"], team["stages"]
    warm = services.create_opportunity(
        member, team["acme"], team["fund"], {"expected_amount": 8e6, "next_step": "Send the LPA"}
    )
    cold = services.create_opportunity(
        member,
        team["bloom"],
        team["fund"],
        {"expected_amount": 2e6, "stage_id": stages["Meeting"]["id"]},
    )
    recent = (clock.now() - timedelta(days=3)).isoformat()
    old = (clock.now() - timedelta(days=45)).isoformat()
    # the email signals capture keeps (crm_lib.mail.signals), set as they would be
    ctx.db.execute(
        "UPDATE fundraising_investors SET email_last_inbound_at = ?, email_last_outbound_at = ?"
        " WHERE id = ?",
        [recent, recent, team["acme"]],
    )
    ctx.db.execute(
        "UPDATE fundraising_investors SET email_last_inbound_at = ?, email_last_outbound_at = ?"
        " WHERE id = ?",
        [old, recent, team["bloom"]],
    )
    board = services.pipeline_board(member, team["fund"])
    assert [c["name"] for c in board["columns"]] == [s["name"] for s in services.list_stages(ctx)]
    by_stage = {c["name"]: c["cards"] for c in board["columns"]}
    [acme] = by_stage["Prospect"]
    [bloom] = by_stage["Meeting"]
    assert (acme["id"], acme["next_step"], acme["going_cold"]) == (
        warm["id"],
        "Send the LPA",
        False,
    )
    assert (bloom["id"], bloom["going_cold"], bloom["last_touch_at"]) == (cold["id"], True, recent)
    assert board["open_weighted"] == 8e6 * 0.1 + 2e6 * 0.3
    assert (
        services.pipeline_board(member, team["fund"], cold_days=60)["columns"][2]["cards"][0][
            "going_cold"
        ]
        is False
    )
    mine = services.pipeline_board(member, team["fund"], owner_id=team["member_id"])
    assert [card["id"] for column in mine["columns"] for card in column["cards"]] == [warm["id"]]


def test_a_stage_placed_at_a_position_moves_the_others_down(team: dict) -> None:
    admin = team["admin"]
    made = services.create_stage(admin, {"name": "Term sheet", "probability": 0.6, "position": 5})
    names = [s["name"] for s in services.list_stages(admin)]
    assert names == [
        "Prospect",
        "Intro",
        "Meeting",
        "Diligence",
        "Term sheet",
        "Soft circle",
        "Committed",
        "Lost",
    ]
    assert [s["position"] for s in services.list_stages(admin)] == list(range(1, 9))
    services.update_stage(admin, made["id"], {"position": 1}, expected_version=made["version"])
    assert [s["name"] for s in services.list_stages(admin)][:2] == ["Term sheet", "Prospect"]
