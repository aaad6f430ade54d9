"""Every curated question passes the validator and runs on a demo fund with its mail, and the
ones whose answer can be worked out another way give exactly that answer."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest

import crm_lib
from crm_lib import services
from crm_lib.ask.curated import BY_KEY, CURATED
from crm_lib.ask.execute import open_connection, run
from crm_lib.ask.validate import validate
from crm_lib.config import Settings
from crm_lib.demo import load_demo_data, load_demo_email
from crm_lib.errors import ValidationError
from tests.conftest import DEMO_AS_OF


@pytest.fixture(scope="module")
def fund(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data_dir = tmp_path_factory.mktemp("ask") / "data"
    ctx = crm_lib.open_crm(data_dir, actor="system:test")
    load_demo_data(ctx, investors=300, seed=11, as_of=DEMO_AS_OF)
    load_demo_email(ctx, 450, as_of=DEMO_AS_OF)
    commitments = [
        dict(zip(("investor_id", "amount", "fund", "list_membership"), r, strict=True))
        for r in ctx.db.execute(
            "SELECT c.investor_id, c.amount, f.name AS fund, i.list_membership"
            " FROM fundraising_commitments c JOIN fundraising_funds f ON f.id = c.fund_id"
            " JOIN fundraising_investors i ON i.id = c.investor_id"
            " WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
        )
    ]
    funds = services.list_funds(ctx)
    linked = ctx.db.execute(
        "SELECT i.name FROM fundraising_investors i"
        " JOIN email_investor_links l ON l.investor_id = i.id AND l.deleted_at IS NULL"
        " GROUP BY i.id ORDER BY count(*) DESC, i.id LIMIT 1"
    ).fetchone()[0]
    ctx.close()
    con = open_connection(Settings(data_dir=data_dir))
    yield {"con": con, "commitments": commitments, "funds": funds, "linked": linked}
    con.close()


def answer(fund: dict, key: str, **given: object) -> list[tuple]:
    question = BY_KEY[key]
    values = question.values({"INVESTOR": fund["linked"], **given}, date(2026, 11, 25))
    return run(fund["con"], validate(question.sql), values).rows


def test_there_are_at_least_fifteen_distinct_questions() -> None:
    assert len(CURATED) >= 15
    assert len(BY_KEY) == len(CURATED)
    assert len({q.question for q in CURATED}) == len(CURATED)


@pytest.mark.parametrize("key", [q.key for q in CURATED])
def test_each_question_runs_on_the_demo(fund: dict, key: str) -> None:
    rows = answer(fund, key)
    assert isinstance(rows, list)
    if BY_KEY[key].opens_investors:
        columns = run(
            fund["con"],
            validate(BY_KEY[key].sql),
            BY_KEY[key].values({"INVESTOR": fund["linked"]}, date(2026, 11, 25)),
        ).columns
        assert columns[0] == "id"  # what "Open in grid" takes


def test_committed_per_fund_leaves_out_the_graveyard(fund: dict) -> None:
    expected: dict[str, float] = defaultdict(float)
    for c in fund["commitments"]:
        if c["list_membership"] != "graveyard":
            expected[c["fund"]] += c["amount"]
    assert {row[0]: row[2] for row in answer(fund, "committed_per_fund")} == pytest.approx(
        dict(expected)
    )


def test_fund_progress_matches_the_funds_page(fund: dict) -> None:
    progress = {row[0]: row[3] for row in answer(fund, "fund_progress")}
    assert progress == pytest.approx({f["name"]: f["committed"] or 0 for f in fund["funds"]})


def test_committed_to_one_fund_but_not_another(fund: dict) -> None:
    by_fund: dict[str, set[int]] = defaultdict(set)
    for c in fund["commitments"]:
        by_fund[c["fund"]].add(c["investor_id"])
    rows = answer(fund, "committed_to_a_not_b", FUND_A="Fund II", FUND_B="Fund III")
    assert {row[0] for row in rows} == by_fund["Fund II"] - by_fund["Fund III"]
    assert rows and [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)


def test_multi_fund_investors(fund: dict) -> None:
    funds_of: dict[int, set[str]] = defaultdict(set)
    for c in fund["commitments"]:
        funds_of[c["investor_id"]].add(c["fund"])
    expected = {i for i, names in funds_of.items() if len(names) > 1}
    assert {row[0] for row in answer(fund, "multi_fund_investors")} == expected


def test_who_knows_an_investor_counts_the_linked_mail(fund: dict) -> None:
    rows = answer(fund, "who_knows_investor")
    assert rows and all(row[1] == row[2] + row[3] for row in rows)
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)


def test_top_n_keeps_its_own_limit(fund: dict) -> None:
    assert len(answer(fund, "top_investors", TOP=5)) == 5


def test_parameters_are_typed_and_named_in_errors() -> None:
    question = BY_KEY["committed_not_emailed"]
    with pytest.raises(ValidationError, match="Days must be a number"):
        question.values({"DAYS": "ninety"}, date(2026, 11, 25))
    with pytest.raises(ValidationError, match="Investor is required"):
        BY_KEY["who_knows_investor"].values({}, date(2026, 11, 25))
    assert question.values({}, date(2026, 11, 25))["DAYS"] == 90


def test_pipeline_by_stage_matches_the_pipeline_summary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ctx = crm_lib.open_crm(tmp_path / "data", actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund IV"})
    other = services.create_fund(ctx, {"name": "Fund V"})
    stages = {s["name"]: s["id"] for s in services.list_stages(ctx)}
    for n, (stage, amount) in enumerate((("Meeting", 4e6), ("Meeting", 1e6), ("Diligence", 2e6))):
        investor = services.create_investor(ctx, {"name": f"LP {n}"})
        values = {"stage_id": stages[stage], "expected_amount": amount}
        services.create_opportunity(ctx, investor["id"], fund["id"], values)
        services.create_opportunity(ctx, investor["id"], other["id"], {"expected_amount": 9e9})
    summary = services.pipeline_summary(ctx, fund["id"])
    ctx.close()
    con = open_connection(Settings(data_dir=tmp_path / "data"))
    question = BY_KEY["pipeline_by_stage"]
    rows = run(con, validate(question.sql), question.values({"FUND": "Fund IV"}, date.today())).rows
    con.close()
    assert [(r[0], r[1], r[2], round(r[3], 2)) for r in rows] == [
        (s["name"], s["count"], s["expected"], round(s["weighted"], 2)) for s in summary["stages"]
    ]
    assert rows[2] == ("Meeting", 2, 5e6, 1.5e6)
