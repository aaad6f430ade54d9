"""/api/ask on a live server whose Claude is pytest-httpserver on loopback: curated questions,
a free-form question (scrubbed on the way out, bound on the way back), a dry run that sends
nothing, edited SQL and refusals naming their rule, the log as members and admins see it, and
the routes in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from pytest_httpserver import HTTPServer

from tests.api.conftest import LiveServer, start
from tests.api.conftest import session_for as api
from tests.ask.messages_api import tool_answer


@pytest.fixture(scope="module")
def claude() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def asking(tmp_path_factory: pytest.TempPathFactory, claude: HTTPServer) -> Iterator[LiveServer]:
    yield from start(
        tmp_path_factory.mktemp("ask"),
        CRM_WRITE_RATE_PER_MINUTE="100000",
        ANTHROPIC_API_KEY="sk-test-live",
        ANTHROPIC_BASE_URL=claude.url_for("").rstrip("/"),
    )


def make_investor(session: requests.Session, live: LiveServer, name: str) -> int:
    made = session.post(f"{live.base}/api/fundraising/investors", json={"fields": {"Name": name}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_curated_questions_are_listed_and_answered_for_members(asking: LiveServer) -> None:
    member = api(asking, "member")
    listed = member.get(f"{asking.base}/api/ask/questions").json()
    assert listed["model_ready"] is True and len(listed["questions"]) >= 15
    keys = {q["key"] for q in listed["questions"]}
    assert "committed_not_emailed" in keys
    answer = member.post(
        f"{asking.base}/api/ask", json={"key": "committed_not_emailed", "params": {"DAYS": 30}}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["source"] == "curated" and body["params"]["DAYS"] == 30
    assert body["params"]["TODAY"] == body["params"]["TODAY"][:10]  # the CRM's date
    assert body["columns"][:2] == ["id", "name"]
    wrong = member.post(f"{asking.base}/api/ask", json={"key": "nope"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "key"
    empty = member.post(f"{asking.base}/api/ask", json={})
    assert empty.status_code == 422


def test_a_free_form_question_is_scrubbed_out_and_bound_back(
    asking: LiveServer, claude: HTTPServer
) -> None:
    admin = api(asking, "admin")
    investor_id = make_investor(admin, asking, "Zephyr Holdings Partners")
    claude.clear()
    claude.expect_request("/v1/messages", method="POST").respond_with_json(
        tool_answer(
            "SELECT id, name FROM investors WHERE lower(name) = lower($INVESTOR_1)",
            "That investor.",
        )
    )
    dry = admin.post(
        f"{asking.base}/api/ask",
        json={"question": "Where is zephyr holdings partners based?", "dry_run": True},
    )
    assert dry.status_code == 200, dry.text
    assert dry.json()["scrubbed_question"] == "Where is INVESTOR_1 based?"
    assert claude.log == []
    answer = admin.post(
        f"{asking.base}/api/ask", json={"question": "Where is zephyr holdings partners based?"}
    ).json()
    assert answer["rows"] == [[investor_id, "Zephyr Holdings Partners"]]
    assert answer["investor_ids"] == [investor_id] and answer["source"] == "model"
    [(request, _)] = claude.log
    assert "Zephyr" not in request.get_data(as_text=True)
    assert request.get_json() == dry.json()["request_body"]


def test_edited_sql_is_checked_and_a_refusal_names_its_rule(asking: LiveServer) -> None:
    member = api(asking, "member")
    ran = member.post(f"{asking.base}/api/ask/sql", json={"sql": "SELECT count(*) AS n FROM funds"})
    assert ran.status_code == 200 and ran.json()["columns"] == ["n"]
    for sql, rule in (
        ("SELECT * FROM users", "views_only"),
        ("DELETE FROM investors", "read_only"),
        ("SELECT * FROM read_parquet('x')", "table_function"),
    ):
        refused = member.post(f"{asking.base}/api/ask/sql", json={"sql": sql})
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"] == "sql_refused" and refused.json()["rule"] == rule
    bad = member.post(f"{asking.base}/api/ask/sql", json={"sql": "SELECT 1", "params": {"x": []}})
    assert bad.status_code == 422


def test_the_log_is_the_askers_and_the_admins(asking: LiveServer) -> None:
    member, admin = api(asking, "member"), api(asking, "admin")
    member.post(f"{asking.base}/api/ask", json={"key": "fund_progress"})
    admin.post(f"{asking.base}/api/ask", json={"key": "investors_by_owner"})
    mine = member.get(f"{asking.base}/api/ask/log").json()
    assert mine and {row["asked_by"] for row in mine} == {"Bob"}
    assert "investors_by_owner" not in {row["curated_key"] for row in mine}
    everyone = admin.get(f"{asking.base}/api/ask/log", params={"limit": 500}).json()
    assert {"fund_progress", "investors_by_owner"} <= {row["curated_key"] for row in everyone}
    assert member.get(f"{asking.base}/api/ask/log", params={"user_id": 1}).status_code == 422


def test_the_ask_routes_are_in_the_openapi_document(asking: LiveServer) -> None:
    paths = requests.get(f"{asking.base}/api/openapi.json", timeout=10).json()["paths"]
    assert {"/ask", "/ask/sql", "/ask/log", "/ask/questions"} <= {
        p.removeprefix("/api") for p in paths
    }
