"""The pipeline board in Chromium, as two people use it: Alice drags a card to the next stage,
the column totals update, and Bob's open board shows the move within 2 seconds; a card moved
with the keyboard; a task added from a card and completed on the tasks page with one key; the
grid's "Next task due" overdue highlight. Screenshots go to docs/ when CRM_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Browser, Locator, Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.browser.conftest import BOB, log_in, page_errors
from tests.browser.test_grid_page import served, shots

pytestmark = pytest.mark.browser


def open_board(page: Page, base: str, fund_id: int, email: str | None = None) -> None:
    if email is None:
        log_in(page, base)
    else:
        log_in(page, base, email=email)
    page.goto(f"{base}/pipeline?fund={fund_id}")
    page.wait_for_selector(".crm-opp", timeout=30_000)


def stage(page: Page, name: str) -> Locator:
    return page.locator(f'.crm-stage[data-stage-name="{name}"]')


def first_card_investor(page: Page, name: str) -> str:
    return stage(page, name).locator(".crm-opp-name").first.inner_text()


@pytest.fixture
def fund_iii(team_data: Path) -> int:
    settings = Settings(data_dir=team_data, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    fund = next(f for f in services.list_funds(ctx) if f["name"] == "Fund III")
    ctx.close()
    return fund["id"]


def test_a_dragged_card_moves_updates_the_totals_and_reaches_another_session(
    browser: Browser, team_data: Path, fund_iii: int, tmp_path: Path
) -> None:
    alice = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    bob = browser.new_context(viewport={"width": 1500, "height": 1000}).new_page()
    errors = page_errors(alice)
    with served(team_data) as base:
        open_board(alice, base, fund_iii)
        open_board(bob, base, fund_iii, email=BOB)
        meeting, diligence = stage(alice, "Meeting"), stage(alice, "Diligence")
        moving = first_card_investor(alice, "Meeting")
        before_meeting = meeting.locator(".crm-stage-figures").first.inner_text()
        before_diligence = diligence.locator(".crm-stage-figures").first.inner_text()
        card = meeting.locator(".crm-opp").first
        card.drag_to(diligence)
        expect(alice.get_by_text(f"Moved {moving} to Diligence.").first).to_be_visible(
            timeout=10_000
        )
        expect(diligence.locator(".crm-opp-name", has_text=moving)).to_have_count(1)
        expect(meeting.locator(".crm-stage-figures").first).not_to_have_text(before_meeting)
        expect(diligence.locator(".crm-stage-figures").first).not_to_have_text(before_diligence)
        # Bob's board follows without a reload, within 2 seconds
        expect(stage(bob, "Diligence").locator(".crm-opp-name", has_text=moving)).to_have_count(
            1, timeout=2_000
        )
        # the keyboard: focus the card and press → to move it on to Soft circle
        alice.locator(".crm-opp", has_text=moving).first.focus()
        alice.keyboard.press("ArrowRight")
        expect(alice.get_by_text(f"Moved {moving} to Soft circle.").first).to_be_visible(
            timeout=10_000
        )
        expect(stage(alice, "Soft circle").locator(".crm-opp-name", has_text=moving)).to_have_count(
            1
        )
        # the moved card keeps the focus, so a second → would carry on
        expect(alice.locator(".crm-opp:focus")).to_contain_text(moving)
        alice.screenshot(path=str(shots(tmp_path) / "pipeline.png"), full_page=True)
    assert errors == []
    alice.context.close()
    bob.context.close()


def test_a_task_from_a_card_is_done_on_the_tasks_page_with_one_key(
    page: Page, team_data: Path, fund_iii: int, tmp_path: Path
) -> None:
    with served(team_data) as base:
        open_board(page, base, fund_iii)
        card = stage(page, "Intro").locator(".crm-opp").first
        investor = card.locator(".crm-opp-name").inner_text()
        card.click()
        title = page.locator(".crm-task-form .crm-task-title-input input")
        title.fill("Send the revised LPA")
        title.press("Enter")
        expect(page.get_by_text("Added the task “Send the revised LPA”.").first).to_be_visible(
            timeout=10_000
        )
        expect(page.locator(".crm-investor-tasks .crm-task-title")).to_contain_text(
            ["Send the revised LPA"]
        )
        page.goto(f"{base}/tasks")
        task = page.locator(".crm-my-tasks .crm-task", has_text="Send the revised LPA")
        expect(task).to_contain_text(investor, timeout=30_000)
        page.screenshot(path=str(shots(tmp_path) / "tasks.png"), full_page=True)
        task.focus()
        page.keyboard.press("x")
        expect(page.get_by_text("Task done.").first).to_be_visible(timeout=10_000)
        expect(task).to_have_count(0)


def test_the_grid_highlights_overdue_follow_ups(page: Page, team_data: Path) -> None:
    settings = Settings(data_dir=team_data, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    first = services.list_investors(ctx, list_membership="main", page_size=1).rows[0]
    services.create_task(
        ctx, {"title": "Long overdue", "investor_id": first["id"], "due_on": "2020-01-06"}
    )
    ctx.close()
    with served(team_data) as base:
        log_in(page, base)
        page.goto(f"{base}/grid")
        page.wait_for_selector(".tabulator-row", timeout=30_000)
        row = page.locator(".tabulator-row", has_text=first["name"]).first
        due = row.locator('.tabulator-cell[tabulator-field="tasks__next_due"] span')
        expect(due).to_have_text("2020-01-06", timeout=10_000)
        assert due.get_attribute("data-overdue") == "1"
        assert "(overdue)" in (due.get_attribute("title") or "")
