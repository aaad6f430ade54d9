"""The Ask service as front ends call it: curated questions by text or key with typed
parameters, edited SQL through the same gate, the snapshot kept until the data changes (and
only then), subjects of mail shared as metadata kept out, the log and who may read it, the
activity feed, "Open in grid" ids, CSV, and a notebook that runs and gives the same rows."""

from __future__ import annotations

import runpy
from pathlib import Path

import duckdb
import nbformat
import pytest

from crm_lib import services
from crm_lib.ask.engine import AskEngine
from crm_lib.ask.validate import QueryRefused
from crm_lib.context import Context
from crm_lib.errors import NotFound, PermissionDenied, ValidationError


def test_a_curated_question_runs_by_its_text_or_its_key_with_typed_parameters(
    offline: Context, engine: AskEngine
) -> None:
    by_text = services.ask(
        offline, engine, "  who are the LARGEST investors in a fund ", params={"FUND": "Fund II"}
    )
    by_key = services.ask(offline, engine, "", key="largest_in_fund", params={"FUND": "Fund II"})
    assert by_text["rows"] == by_key["rows"] and by_text["row_count"] > 0
    assert by_text["source"] == "curated" and by_text["curated_key"] == "largest_in_fund"
    assert by_text["params"] == {"FUND": "Fund II"}
    assert by_text["investor_ids"] == [row[0] for row in by_text["rows"]]
    with pytest.raises(ValidationError) as wrong:
        services.ask(offline, engine, "", key="committed_not_emailed", params={"DAYS": "soon"})
    assert wrong.value.field == "DAYS" and "must be a number" in wrong.value.message
    with pytest.raises(ValidationError, match="No curated question 'nope'"):
        services.ask(offline, engine, "", key="nope")


def test_edited_sql_runs_through_the_same_gate_with_the_answers_values(
    offline: Context, engine: AskEngine
) -> None:
    name = offline.db.execute("SELECT name FROM fundraising_investors WHERE id = 7").fetchone()[0]
    answer = services.ask_sql(
        offline,
        engine,
        "SELECT id, name FROM investors WHERE name = $INVESTOR_1",
        params={"INVESTOR_1": name},
    )
    assert answer["rows"] == [[7, name]] and answer["investor_ids"] == [7]
    with pytest.raises(QueryRefused) as refused:
        services.ask_sql(offline, engine, "UPDATE investors SET name = 'x'")
    assert refused.value.rule == "read_only"
    with pytest.raises(QueryRefused) as missing:
        services.ask_sql(offline, engine, "SELECT * FROM investors WHERE id = $ID")
    assert missing.value.rule == "parameters"
    with pytest.raises(ValidationError, match="is not a parameter name"):
        services.ask_sql(offline, engine, "SELECT 1", params={"1bad": 1})
    with pytest.raises(ValidationError, match="at most 200 characters"):
        services.ask_sql(offline, engine, "SELECT $X", params={"X": "y" * 201})


def test_answers_are_json_ready_and_non_investor_rows_do_not_open_in_the_grid(
    offline: Context, engine: AskEngine
) -> None:
    answer = services.ask_sql(
        offline,
        engine,
        "SELECT max(sent_at) AS last, CAST(1.50 AS DECIMAL(4, 2)) AS d, [1, 2] AS l,"
        " count(*) AS n FROM emails",
    )
    [[last, decimal, listed, count]] = answer["rows"]
    assert isinstance(last, str) and last.startswith("2026-")
    assert decimal == 1.5 and listed == [1, 2] and count > 0
    assert answer["investor_ids"] is None


def test_the_snapshot_is_kept_until_someone_writes_and_logging_is_not_a_write(
    offline: Context, engine: AskEngine
) -> None:
    count = "SELECT count(*) AS n FROM investors"
    before = services.ask_sql(offline, engine, count)["rows"][0][0]
    assert engine.wait_until_fast(60)  # the views copied into DuckDB's tables meanwhile
    snapshot = engine._con
    services.ask_sql(offline, engine, count)
    assert engine._con is snapshot  # the question log went through the engine's connection
    made = services.create_investor(offline, {"name": "Brand New Capital"})
    assert services.ask_sql(offline, engine, count)["rows"][0][0] == before + 1
    assert engine._con is not snapshot
    services.archive_investor(offline, made["id"], expected_version=made["version"])
    assert services.ask_sql(offline, engine, count)["rows"][0][0] == before


def test_duckdbs_copy_answers_every_curated_question_as_the_sqlite_snapshot_does(
    offline: Context, engine: AskEngine
) -> None:
    slow = AskEngine(offline.settings, materialized=False)
    try:
        services.ask(offline, engine, "", key="fund_progress")
        assert engine.wait_until_fast(60)
        name = offline.db.execute(
            "SELECT i.name FROM fundraising_investors i JOIN email_investor_links l"
            " ON l.investor_id = i.id GROUP BY i.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        for question in services.curated_questions(offline):
            given = {"INVESTOR": name} if question["key"] == "who_knows_investor" else {}
            fast = services.ask(offline, engine, "", key=question["key"], params=given)
            sqlite = services.ask(offline, slow, "", key=question["key"], params=given)
            assert fast["columns"] == sqlite["columns"], question["key"]
            assert fast["rows"] == sqlite["rows"], question["key"]
    finally:
        slow.close()


def test_the_copy_questions_read_is_read_only_in_the_database_itself(
    offline: Context, engine: AskEngine
) -> None:
    services.ask(offline, engine, "", key="fund_progress")
    assert engine.wait_until_fast(60)
    cursor = engine.cursor()
    try:
        for sql in (
            "CREATE OR REPLACE VIEW investors AS SELECT 1 AS id",
            "INSERT INTO funds (id) VALUES (99)",
            "DROP TABLE investors",
        ):
            with pytest.raises(duckdb.Error, match="Cannot execute statement"):
                cursor.execute(sql)
        with pytest.raises(duckdb.Error):
            cursor.execute("SET enable_external_access = true")
    finally:
        cursor.close()


def test_a_subject_shared_as_metadata_only_is_not_readable_by_a_question(
    system: Context, engine: AskEngine
) -> None:
    sql = "SELECT count(*) FILTER (WHERE subject IS NOT NULL) AS shown, count(*) AS n FROM emails"
    [[shown, total]] = services.ask_sql(system, engine, sql)["rows"]
    assert shown == total > 0
    system.db.execute("UPDATE email_accounts SET sharing = 'metadata'")
    try:
        [[shown, total_after]] = services.ask_sql(system, engine, sql)["rows"]
        assert (shown, total_after) == (0, total)
    finally:
        system.db.execute("UPDATE email_accounts SET sharing = 'everything'")


def test_members_read_their_own_log_and_admins_everyones(
    alice: Context, bob: Context, offline: Context, engine: AskEngine
) -> None:
    services.ask(offline, engine, "", key="fund_progress")
    services.ask(bob, engine, "", key="investors_by_type")
    mine = services.ask_history(bob)
    assert {row["curated_key"] for row in mine} == {"investors_by_type"}
    assert all(row["asked_by"] == "Bob" for row in mine)
    everyone = services.ask_history(alice, limit=500)
    assert {"fund_progress", "investors_by_type"} <= {row["curated_key"] for row in everyone}
    bob_id = mine[0]["user_id"]
    assert {row["user_id"] for row in services.ask_history(alice, user_id=bob_id)} == {bob_id}
    with pytest.raises(ValidationError, match="Members see only their own questions"):
        services.ask_history(bob, user_id=bob_id + 100)
    alice_answer = services.ask(offline, engine, "", key="multi_fund_investors")
    with pytest.raises(NotFound):
        services.asked_investor_ids(bob, alice_answer["ask_id"])
    assert (
        services.asked_investor_ids(alice, alice_answer["ask_id"]) == alice_answer["investor_ids"]
    )
    not_investors = services.ask(offline, engine, "", key="fund_progress")
    with pytest.raises(ValidationError, match="not investors"):
        services.asked_investor_ids(alice, not_investors["ask_id"])


def test_questions_are_in_the_askers_and_admins_activity_feed_only(
    alice: Context, bob: Context, offline: Context, engine: AskEngine
) -> None:
    services.ask(offline, engine, "", key="waiting_for_reply")
    events = services.activity(alice, kinds=("ask",), limit=5)
    assert events[0]["sentence"].startswith("Alice asked “Which investors wrote to us last")
    assert events[0]["sentence"].endswith("row)") or events[0]["sentence"].endswith("rows)")
    assert all(e["actor"] != "alice@fund.example" for e in services.activity(bob, kinds=("ask",)))
    with pytest.raises(QueryRefused):
        services.ask_sql(offline, engine, "SELECT * FROM users")
    refused = services.activity(alice, kinds=("ask",), limit=1)[0]
    assert refused["sentence"].endswith("(refused: views_only)")


def test_csv_defuses_formulas_and_the_notebook_runs_and_gives_the_same_rows(
    offline: Context, engine: AskEngine, asked_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = services.ask_sql(
        offline,
        engine,
        "SELECT '=HYPERLINK(1)' AS risky, name FROM investors WHERE name = $INVESTOR_1",
        params={
            "INVESTOR_1": offline.db.execute(
                "SELECT name FROM fundraising_investors WHERE id = 3"
            ).fetchone()[0]
        },
    )
    assert services.answer_csv(answer).splitlines()[1].startswith("'=HYPERLINK(1)")
    path = services.answer_notebook(offline, answer)
    assert path.parent == offline.settings.notebooks_dir and path.suffix == ".ipynb"
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    code = code.replace(
        "con.execute(sql, params).df()", "result = con.execute(sql, params).fetchall()"
    )
    monkeypatch.setenv("CRM_DATA_DIR", str(asked_dir))
    script = path.with_suffix(".py")
    script.write_text(code)
    ran = runpy.run_path(str(script))
    assert [list(row) for row in ran["result"]] == answer["rows"]


def test_a_member_may_ask_and_only_logged_in_people(bob: Context, engine: AskEngine) -> None:
    assert len(services.curated_questions(bob)) >= 15
    from dataclasses import replace

    stranger = replace(bob, role="guest")
    with pytest.raises(PermissionDenied):
        services.ask(stranger, engine, "", key="fund_progress")
