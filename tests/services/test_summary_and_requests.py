"""Relational summary, feature requests and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import PermissionDenied, ValidationError

PASSWORD = "tangerine orbit mosaic"


def member(ctx: Context, email: str = "bob@fund.example") -> Context:
    link = services.invite_user(ctx, email)
    return ctx.as_user(services.accept_link(ctx, link.token, name="Bob", password=PASSWORD))


def test_relational_summary_counts_live_rows_by_fund_list_and_type(ctx: Context, fund: dict):
    a = services.create_investor(ctx, {"name": "A", "type": "Endowment"})
    b = services.create_investor(
        ctx, {"name": "B", "type": "Endowment", "list_membership": "longshot"}
    )
    gone = services.create_investor(ctx, {"name": "Gone", "type": "Pension"})
    services.set_commitment(ctx, a["id"], fund["id"], 1_000_000, status="soft_circled")
    services.set_commitment(ctx, b["id"], fund["id"], 3_000_000)
    services.set_commitment(ctx, gone["id"], fund["id"], 9_000_000)
    services.archive_investor(ctx, gone["id"], expected_version=2)
    summary = services.relational_summary(ctx)
    assert summary["totals"]["investors"] == 2 and summary["totals"]["committed"] == 4e6
    [by_fund] = summary["by_fund"]
    assert (by_fund["commitments"], by_fund["soft_circled"], by_fund["hard_committed"]) == (
        2,
        1e6,
        3e6,
    )
    assert {r["list"]: r["investors"] for r in summary["by_list"]} == {"longshot": 1, "main": 1}
    assert summary["by_type"] == [{"type": "Endowment", "investors": 2, "total_invested": 4e6}]


def test_total_committed_leaves_the_graveyard_out_and_reports_it_apart(
    ctx: Context, fund: dict
) -> None:
    live = services.create_investor(ctx, {"name": "Live"})
    dead = services.create_investor(ctx, {"name": "Dead", "list_membership": "graveyard"})
    services.set_commitment(ctx, live["id"], fund["id"], 2_000_000)
    services.set_commitment(ctx, dead["id"], fund["id"], 5_000_000)
    totals = services.relational_summary(ctx)["totals"]
    assert (
        totals["committed"],
        totals["committed_excluding_graveyard"],
        totals["committed_graveyard"],
    ) == (7e6, 2e6, 5e6)


def test_feature_requests_votes_and_admin_status(ctx: Context) -> None:
    bob = member(ctx)
    carol = member(ctx, "carol@fund.example")
    made = services.create_feature_request(bob, "Export to PDF", "for the LP meeting")
    assert (made["votes"], made["voted"]) == (1, True)
    voted = services.update_feature_request(carol, made["id"], vote=True)
    assert voted["votes"] == 2
    assert services.update_feature_request(carol, made["id"], vote=True)["votes"] == 2
    assert services.update_feature_request(carol, made["id"], vote=False)["votes"] == 1
    with pytest.raises(PermissionDenied):
        services.update_feature_request(bob, made["id"], status="planned", expected_version=1)
    planned = services.update_feature_request(ctx, made["id"], status="planned", expected_version=1)
    assert planned["status"] == "planned"
    assert [r["title"] for r in services.list_feature_requests(bob, status="planned")] == [
        "Export to PDF"
    ]
    with pytest.raises(ValidationError, match="Title must be"):
        services.create_feature_request(bob, "   ")


def test_csv_export_uses_labels_streams_and_defuses_formulas(ctx: Context) -> None:
    services.create_investor(ctx, {"name": '=HYPERLINK("http://evil")', "tags": ["AI", "Seed"]})
    services.create_investor(ctx, {"name": "Plain LP", "notes": "+1 555"})
    text = "".join(services.investors_csv(ctx))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "Name", "Type"]
    names = {r[1]: r for r in rows[1:]}
    assert '\'=HYPERLINK("http://evil")' in names
    tags = rows[0].index("Tags")
    assert names['\'=HYPERLINK("http://evil")'][tags] == "AI, Seed"
    assert names["Plain LP"][rows[0].index("Notes")] == "'+1 555"


def test_list_filters_by_operator_and_search(ctx: Context) -> None:
    services.create_investor(ctx, {"name": "Acme", "status": "Meeting", "location": "Boston"})
    services.create_investor(ctx, {"name": "Beta", "status": "Passed"})
    services.create_investor(ctx, {"name": "Gamma"})

    def names(**kw):
        return [r["name"] for r in services.list_investors(ctx, **kw).rows]

    assert names(conditions=[("Status", "ne", "Passed")]) == ["Acme", "Gamma"]
    assert names(conditions=[("status", "empty", None)]) == ["Gamma"]
    assert names(conditions=[("status", "not_empty", None)]) == ["Acme", "Beta"]
    assert names(search="bost") == ["Acme"]
    with pytest.raises(ValidationError, match="Unknown filter operator 'like'"):
        names(conditions=[("name", "like", "A")])
    with pytest.raises(ValidationError, match="Unknown field 'Stauts' — did you mean 'Status'"):
        names(conditions=[("Stauts", "eq", "x")])


def test_readiness_checks_schema_writability_and_disk(ctx: Context, bob: Context) -> None:
    status = services.database_status(ctx)
    assert status["ready"] and status["free_disk_mb"] > 0
    bob.db.conn.execute("BEGIN IMMEDIATE")  # another writer holds the lock for too long
    try:
        busy = services.database_status(ctx)
    finally:
        bob.db.conn.execute("ROLLBACK")
    assert not busy["ready"] and busy["detail"].startswith("Database is not writable")
    assert services.database_status(ctx)["ready"]


def test_readiness_fails_when_a_table_was_removed_by_hand(ctx: Context) -> None:
    ctx.db.execute("ALTER TABLE feature_requests RENAME TO lost_requests")
    status = services.database_status(ctx)
    assert not status["ready"]
    assert status["detail"].startswith("Database is missing table(s) feature_requests")


def test_commitments_matrix_pivots_live_commitments_by_fund(ctx: Context, fund: dict) -> None:
    other = services.create_fund(ctx, {"name": "Fund IV", "target_size": 1e8})
    a = services.create_investor(ctx, {"name": "A"})
    b = services.create_investor(ctx, {"name": "B"})
    services.set_commitment(ctx, a["id"], fund["id"], 1e6)
    services.set_commitment(ctx, a["id"], other["id"], 2e6)
    services.set_commitment(ctx, b["id"], other["id"], 5e6)
    matrix = services.commitments_matrix(ctx, page_size=1)
    assert matrix["total"] == 2
    [row] = matrix["rows"]
    assert (row["investor"], row["total"], row[f"fund_{fund['id']}"]) == ("B", 5e6, None)
    assert row[f"fund_{other['id']}"] == 5e6
    second = services.commitments_matrix(ctx, page=2, page_size=1)["rows"][0]
    assert (second["investor"], second["total"]) == ("A", 3e6)
    by_fund = {f["fund"]: f for f in matrix["funds"]}
    assert by_fund["Fund IV"]["progress"] == 0.07 and by_fund["Fund III"]["committed"] == 1e6
