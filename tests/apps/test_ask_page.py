"""The Ask page driven through its widgets: a curated question with its parameters, the table
and its SQL, editing and re-running the SQL, a refused edit, the dry run of a free-form
question, CSV and notebook, "Open in grid" into a temporary view, and hostile names as text."""

from __future__ import annotations

import json
from dataclasses import replace

import nbformat
import pytest

import crm_lib
from apps.ask.page import AskPage
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of

HOSTILE = '<img src=x onerror="alert(1)">Capital'


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund III", "vintage_year": 2025})
    other = services.create_fund(ctx, {"name": "Fund II", "vintage_year": 2021})
    for name, amount in ((HOSTILE, 5e6), ("Quiet LP", 2e6), ("Third LP", 1e6)):
        investor = services.create_investor(ctx, {"name": name})
        services.set_commitment(ctx, investor["id"], fund["id"], amount)
    services.set_commitment(ctx, 3, other["id"], 1e6)
    ctx.close()
    runtime = Runtime(settings_with_team, secret_key="k" * 48)
    yield runtime
    runtime.ask_engine.close()


def page_of(runtime: Runtime, email: str = "bob@fund.example") -> AskPage:
    return AskPage(runtime, session=session_of(runtime, email))


def test_a_curated_question_asks_for_its_parameters_and_answers_as_a_table(
    runtime: Runtime,
) -> None:
    page = page_of(runtime)
    assert "Who are the largest investors in a fund?" in page.question.options
    page.question.value = "Who are the largest investors in a fund?"
    assert page.parameters.visible and list(page.parameter_widgets) == ["FUND"]
    assert page.parameter_widgets["FUND"].options == {"Fund III": "Fund III", "Fund II": "Fund II"}
    assert not page.show_sent.visible  # nothing would be sent for a curated question
    page.parameter_widgets["FUND"].value = "Fund III"
    page.ask()
    frame = page.table.value
    assert list(frame.columns) == ["Id", "Investor", "Type", "Amount"]
    assert frame["Investor"].tolist() == [HOSTILE, "Quiet LP", "Third LP"]
    assert frame["Amount"].tolist() == [5e6, 2e6, 1e6]
    assert "3 rows" in page.explanation.object
    assert "$FUND" in page.sql_view.object or "FUND" in page.sql_view.object
    assert "Open 3 investors in the grid" in page.grid_link.object
    assert page.message == ""


def test_the_sql_can_be_edited_and_run_again_and_a_refused_edit_names_its_rule(
    runtime: Runtime,
) -> None:
    page = page_of(runtime)
    page.question.value = "How far is each fund from its target?"
    page.ask()
    assert page.table.value.shape[0] == 2
    page.edit_button.clicks += 1
    assert page.sql_editor.visible and page.run_sql_button.visible
    page.sql_editor.value = "SELECT name FROM funds WHERE name = 'Fund II'"
    page.run_sql()
    assert page.table.value["Name"].tolist() == ["Fund II"]
    page.sql_editor.value = "SELECT email, password_hash FROM users"
    page.run_sql()
    assert page.failed and "Only the views may be read" in page.message
    assert page.table.value["Name"].tolist() == ["Fund II"]  # the last answer stays


def test_a_free_form_question_without_a_model_says_so_and_a_dry_run_shows_the_body(
    runtime: Runtime,
) -> None:
    page = page_of(runtime)
    page.question.value = "Is Quiet LP bigger than $3m?"
    assert page.show_sent.visible
    page.ask()
    assert page.failed and "ANTHROPIC_API_KEY" in page.message
    page.show_sent.value = True
    page.ask()
    assert page.sent.visible
    assert "Is INVESTOR_1 bigger than AMOUNT_1?" in page.sent.object
    assert "Quiet LP" not in page.sent.object
    assert "Nothing was sent" in page.sent.object


def test_csv_and_notebook_of_an_answer(runtime: Runtime) -> None:
    page = page_of(runtime)
    page.question.value = "Which investors have committed to more than one of our funds?"
    page.ask()
    csv_text = page._csv().getvalue().decode()
    assert csv_text.splitlines()[0] == "id,name,funds,committed"
    assert "Third LP" in csv_text
    notebook = nbformat.reads(page._notebook().getvalue().decode(), as_version=4)
    assert "SELECT i.id, i.name" in notebook.cells[3].source
    written = list(runtime.settings.notebooks_dir.glob("ask-*.ipynb"))
    assert len(written) == 1 and "Notebook written to" in page.message


def test_open_in_grid_shows_only_the_answers_investors_until_cleared(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = page_of(runtime, "alice@fund.example")
    page.question.value = "Who are the largest investors in a fund?"
    page.parameter_widgets["FUND"].value = "Fund II"
    page.ask()
    answer = page.answer
    assert answer is not None and answer["investor_ids"] == [3]
    monkeypatch.setattr(
        "apps.grid.page.grid_link",
        lambda: replace(__import__("apps.links").links.grid_link({}), ask=answer["ask_id"]),
    )
    grid = GridPage(runtime, session=session_of(runtime, "alice@fund.example"))
    grid._start()
    assert grid.store.total == 1
    assert [row["name"] for row in grid.store.rows] == ["Third LP"]
    assert "the 1 investor of an answer" in grid.active_note.object
    assert grid.clear_button.visible
    grid.clear_filters()
    assert grid.store.total == 3


def test_another_members_answer_does_not_open_in_their_grid(runtime: Runtime) -> None:
    page = page_of(runtime, "alice@fund.example")
    page.question.value = "Which investors have committed to more than one of our funds?"
    page.ask()
    ask_id = page.answer["ask_id"]
    token = session_of(runtime, "bob@fund.example").token
    with runtime.user_context(token) as bob, pytest.raises(crm_lib.errors.NotFound):
        services.asked_investor_ids(bob, ask_id)


def test_the_history_lists_the_askers_questions_only(runtime: Runtime) -> None:
    alice = page_of(runtime, "alice@fund.example")
    alice.question.value = "How many investors does each owner on the team cover?"
    alice.ask()
    bob = page_of(runtime, "bob@fund.example")
    assert bob.history.value.empty
    assert alice.history.value["Question"].tolist() == [
        "How many investors does each owner on the team cover?"
    ]
    assert alice.history.value["Result"].tolist() == ["1 row"]


def test_a_hostile_column_name_and_value_stay_text(runtime: Runtime) -> None:
    page = page_of(runtime)
    page.question.value = "anything"
    quoted = HOSTILE.replace('"', '""')
    page.sql_editor.value = f'SELECT name AS "{quoted}" FROM investors ORDER BY id LIMIT 1'

    page.run_sql()
    [title] = page.table.value.columns
    assert title.startswith("&lt;img src=x")
    assert page.table.value.iloc[0, 0] == HOSTILE  # a value: Tabulator draws it as text
    assert json.dumps(page.explanation.object).count("<img") == 0
