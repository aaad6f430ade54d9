"""`crm ask`: the curated list, a curated question by key with a parameter, --json's shape,
--sql through the validator (a refusal exits 1 naming its rule), --dry-run printing the exact
body and sending nothing, and a free-form question through the Messages API stub."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from crm_lib.cli import main
from tests.ask.messages_api import tool_answer


def crm(data_dir: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), "ask", *args], env=env)


def test_the_list_and_a_curated_question_by_key_with_a_parameter(asked_dir: Path) -> None:
    listed = crm(asked_dir, "--list")
    assert listed.exit_code == 0 and "committed_not_emailed" in listed.output
    assert "[DAYS=90]" in listed.output and "[INVESTOR=?]" in listed.output
    answer = crm(asked_dir, "largest_in_fund", "-p", "FUND=Fund II")
    assert answer.exit_code == 0, answer.output
    lines = answer.output.splitlines()
    assert lines[0] == "Curated question: Who are the largest investors in a fund?"
    assert lines[2] == "Params: $FUND='Fund II'"
    assert lines[3].split() == ["id", "investor", "type", "amount"]
    assert lines[-1].endswith("rows.")


def test_json_prints_sql_params_columns_rows(asked_dir: Path) -> None:
    shown = crm(asked_dir, "fund_progress", "--json")
    assert shown.exit_code == 0, shown.output
    answer = json.loads(shown.output)
    assert set(answer) == {"sql", "params", "columns", "rows"}
    assert answer["columns"] == ["fund", "status", "target", "committed", "percent"]
    assert [row[0] for row in answer["rows"]] == ["Fund I", "Fund II", "Fund III"]


def test_sql_runs_through_the_validator_and_a_refusal_exits_1_with_its_rule(
    asked_dir: Path,
) -> None:
    ran = crm(
        asked_dir,
        "--sql",
        "SELECT count(*) AS n FROM funds WHERE vintage_year > $Y",
        "-p",
        "Y=2000",
    )
    assert ran.exit_code == 0 and "\n3\n" in ran.output
    refused = crm(asked_dir, "--sql", "SELECT * FROM users")
    assert refused.exit_code == 1
    assert "(rule: views_only)" in refused.output and "Traceback" not in refused.output
    bad = crm(asked_dir, "fund_progress", "-p", "oops")
    assert bad.exit_code == 2 and "is not NAME=VALUE" in bad.output


def test_dry_run_prints_the_scrubbed_question_and_body_and_sends_nothing(
    asked_dir: Path, httpserver: HTTPServer
) -> None:
    env = {"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": httpserver.url_for("")}
    name = "Chavez Fund Investors"
    dry = crm(asked_dir, f"what did {name} commit?", "--dry-run", env=env)
    assert dry.exit_code == 0, dry.output
    first, _, body = dry.output.partition("\n")
    assert first == "Would send (scrubbed): what did INVESTOR_1 commit?"
    assert json.loads(body)["messages"] == [
        {"role": "user", "content": "what did INVESTOR_1 commit?"}
    ]
    assert name not in body and httpserver.log == []


def test_a_free_form_question_through_the_stub(asked_dir: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        tool_answer(
            "SELECT name, total_invested FROM investors WHERE lower(name) = lower($INVESTOR_1)",
            "What they have committed in total.",
        )
    )
    env = {"ANTHROPIC_API_KEY": "sk-test", "ANTHROPIC_BASE_URL": httpserver.url_for("")}
    answer = crm(asked_dir, "what did chavez fund investors commit?", "--json", env=env)
    assert answer.exit_code == 0, answer.output
    shown = json.loads(answer.output)
    assert shown["params"] == {"INVESTOR_1": "Chavez Fund Investors"}
    assert shown["rows"][0][0] == "Chavez Fund Investors"
