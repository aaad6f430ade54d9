"""The pipeline and tasks pages driven through their widgets and the board's messages: a move
from the board, a stale card's move refused as a conflict, a move to Lost that waits for the
reason, reaching Committed proposing the commitment (written only once confirmed), filters by
owner and view, tasks added from a card and completed from the checklist, and hostile names
carried as text."""

from __future__ import annotations

import pytest

import crm_lib
from apps.pipeline.page import PipelinePage
from apps.runtime import Runtime
from apps.tasks.page import TasksPage
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of

HOSTILE = '<img src=x onerror="alert(1)">Capital'


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    bob = next(u for u in services.list_users(ctx) if u["email"] == "bob@fund.example")
    fund = services.create_fund(ctx, {"name": "Fund III", "target_size": 100e6})
    stages = {s["name"]: s["id"] for s in services.list_stages(ctx)}
    for name, stage, amount, owner in (
        (HOSTILE, "Meeting", 10e6, bob["id"]),
        ("Quiet LP", "Intro", 4e6, None),
        ("Third LP", "Soft circle", 2e6, bob["id"]),
    ):
        investor = services.create_investor(ctx, {"name": name, "location": "Oslo"})
        services.create_opportunity(
            ctx,
            investor["id"],
            fund["id"],
            {"stage_id": stages[stage], "expected_amount": amount, "owner_id": owner},
        )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def page_of(runtime: Runtime, email: str = "bob@fund.example") -> PipelinePage:
    return PipelinePage(runtime, session=session_of(runtime, email))


def column(page: PipelinePage, name: str) -> dict:
    return next(c for c in page.board.columns if c["name"] == name)


def card(page: PipelinePage, investor: str) -> dict:
    return next(
        c for col in page.board.columns for c in col["cards"] if c["investor_name"] == investor
    )


def test_the_board_shows_the_funds_stages_cards_and_totals_as_text(runtime: Runtime) -> None:
    page = page_of(runtime)
    assert [c["name"] for c in page.board.columns][:3] == ["Prospect", "Intro", "Meeting"]
    hostile = card(page, HOSTILE)
    assert hostile["amount_text"] == "$10,000,000 · 30%"
    assert hostile["owner_text"] == "Bob" and hostile["going_cold"] is True
    assert column(page, "Meeting")["figures_text"] == "1 opportunity · $10,000,000"
    totals = page.totals.object
    assert "$0 of $100,000,000" in totals  # nothing committed yet
    # weighted: 10M x 30% + 4M x 20% + 2M x 75%
    assert "$5,300,000" in totals and "$16,000,000" in totals
    assert "<img" not in totals and "<img" not in page.funnel.object
    assert "Prospect" in page.funnel.object and "No expected close" in page.forecast.object


def test_a_move_from_the_board_and_a_stale_cards_move_refused(runtime: Runtime) -> None:
    page, other = page_of(runtime), page_of(runtime, "alice@fund.example")
    quiet = card(page, "Quiet LP")
    diligence = column(page, "Diligence")["id"]
    page.on_board(
        {"kind": "move", "id": quiet["id"], "version": quiet["version"], "stage_id": diligence}
    )
    assert page.message == "Moved Quiet LP to Diligence." and not page.failed
    assert [c["investor_name"] for c in column(page, "Diligence")["cards"]] == ["Quiet LP"]
    # the other session still shows the card in Intro, at the old version
    stale = card(other, "Quiet LP")
    meeting = column(other, "Meeting")["id"]
    other.on_board(
        {"kind": "move", "id": stale["id"], "version": stale["version"], "stage_id": meeting}
    )
    assert other.failed and "changed" in other.message.lower()
    assert [c["investor_name"] for c in column(other, "Diligence")["cards"]] == ["Quiet LP"]


def test_a_move_to_lost_waits_for_the_reason(runtime: Runtime) -> None:
    page = page_of(runtime)
    quiet = card(page, "Quiet LP")
    lost = column(page, "Lost")["id"]
    page.on_board(
        {"kind": "move", "id": quiet["id"], "version": quiet["version"], "stage_id": lost}
    )
    assert "Say why Quiet LP was lost" in page.message
    assert card(page, "Quiet LP")["stage_id"] == column(page, "Intro")["id"]  # not moved yet
    assert page.details.visible and page.selected["id"] == quiet["id"]
    page.close_lost()  # no reason given
    assert page.failed and "why it was lost" in page.message
    page.lost_reason.value = "Allocation went to a co-investment"
    page.close_lost()
    assert page.message == "Closed Quiet LP as lost."
    assert [c["investor_name"] for c in column(page, "Lost")["cards"]] == ["Quiet LP"]


def test_reaching_committed_proposes_the_commitment_and_writes_it_only_when_confirmed(
    runtime: Runtime,
) -> None:
    page = page_of(runtime)
    third = card(page, "Third LP")
    won = column(page, "Committed")["id"]
    page.on_board({"kind": "move", "id": third["id"], "version": third["version"], "stage_id": won})
    dialog = page.confirmation
    assert "Record Third LP's commitment of $2,000,000 to Fund III?" in dialog.question
    with runtime.context() as ctx:
        assert services.list_commitments(ctx, investor_id=third["investor_id"])["rows"] == []
    dialog.accept()
    with runtime.context() as ctx:
        [made] = services.list_commitments(ctx, investor_id=third["investor_id"])["rows"]
    assert made["amount"] == 2e6
    assert "$2,000,000 of $100,000,000" in page.totals.object


def test_filters_by_owner_and_view_narrow_the_columns_not_the_fund(runtime: Runtime) -> None:
    page = page_of(runtime)
    with runtime.context() as ctx:
        bob = next(u["id"] for u in services.list_users(ctx) if u["email"] == "bob@fund.example")
    page.owner_choice.value = bob
    names = {c["investor_name"] for col in page.board.columns for c in col["cards"]}
    assert names == {HOSTILE, "Third LP"}
    assert "of the owner or view chosen" in page.totals.object
    assert "$16,000,000" in page.totals.object  # the whole fund's unweighted stays
    page.owner_choice.value = 0
    with runtime.user_context(page.session.token) as ctx:
        quiet_view = services.create_view(
            ctx,
            {"name": "Quiet", "filters": {"field": "name", "operator": "eq", "value": "Quiet LP"}},
        )
    page.refresh(choices=True)
    page.view_choice.value = quiet_view["id"]
    names = {c["investor_name"] for col in page.board.columns for c in col["cards"]}
    assert names == {"Quiet LP"}


def test_a_task_added_from_a_card_shows_on_my_tasks_and_is_done_with_one_message(
    runtime: Runtime,
) -> None:
    page = page_of(runtime)
    hostile = card(page, HOSTILE)
    page.on_board({"kind": "task", "id": hostile["id"], "version": hostile["version"]})
    form = page.task_form
    form.title.value = "Send the LPA"
    form.add()
    assert page.message == "Added the task “Send the LPA”."
    [listed] = form.checklist.sections[0]["tasks"]
    assert (listed["title"], listed["investor_name"]) == ("Send the LPA", HOSTILE)
    tasks = TasksPage(runtime, session=session_of(runtime, "bob@fund.example"))
    upcoming = tasks.checklist.sections[2]
    assert [t["title"] for t in upcoming["tasks"]] == ["Send the LPA"]
    with runtime.context() as ctx:
        [task] = services.list_tasks(ctx)
    assert task["opportunity_id"] == hostile["id"] and task["investor_id"] == hostile["investor_id"]
    tasks.on_checklist({"kind": "done", "id": task["id"], "version": task["version"]})
    assert tasks.message == "Task done."
    assert all(not s["tasks"] for s in tasks.checklist.sections)
    # a second click on the same (now stale) task is a conflict, said, never a second change
    tasks.on_checklist({"kind": "done", "id": task["id"], "version": task["version"]})
    assert tasks.failed


def test_the_tasks_page_adds_a_task_about_an_investor_by_name(runtime: Runtime) -> None:
    tasks = TasksPage(runtime, session=session_of(runtime, "alice@fund.example"))
    tasks.title.value = "Quarterly call"
    tasks.investor.value = "quiet lp"
    tasks.add()
    assert tasks.message == "Added the task “Quarterly call”."
    tasks.title.value = "Ghost"
    tasks.investor.value = "Nobody Capital"
    tasks.add()
    assert tasks.failed and "No investor is named 'Nobody Capital'" in tasks.message
    [upcoming] = [s for s in tasks.checklist.sections if s["tasks"]]
    assert [t["investor_name"] for t in upcoming["tasks"]] == ["Quiet LP"]


def test_another_sessions_move_and_a_new_stage_reach_an_open_board(runtime: Runtime) -> None:
    from apps.grid.live import GridHub

    hub = GridHub(runtime.events)
    page = PipelinePage(runtime, hub=hub, session=session_of(runtime, "bob@fund.example"))
    page.on_board({"kind": "open", "id": card(page, "Quiet LP")["id"]})
    admin = session_of(runtime, "alice@fund.example")
    with runtime.user_context(admin.token) as ctx:
        quiet = card(page, "Quiet LP")
        services.move_opportunity(
            ctx, quiet["id"], column(page, "Meeting")["id"], expected_version=quiet["version"]
        )
        services.create_stage(ctx, {"name": "Term sheet", "probability": 0.6, "position": 5})
    assert [c["investor_name"] for c in column(page, "Meeting")["cards"]] == [HOSTILE, "Quiet LP"]
    assert "Term sheet" in [c["name"] for c in page.board.columns]
    assert "Term sheet" in page.stage_choice.options  # the details' menu too
    assert page.selected["stage_name"] == "Meeting"  # the open details follow the move
