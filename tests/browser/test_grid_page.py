"""The served grid as a person uses it in Chromium: edit, keyboard, fields and formulas, views,
conflicts between two people, archive and restore. Screenshots go to docs/ when
CRM_UPDATE_SCREENSHOTS=1 (otherwise to the test's temporary folder)."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Browser, Locator, Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.server import free_port, running
from tests.browser.conftest import BOB, log_in, page_errors

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"


def shots(tmp_path: Path) -> Path:
    return DOCS if os.environ.get("CRM_UPDATE_SCREENSHOTS") == "1" else tmp_path


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port) as base:
        yield base


def open_grid(page: Page, base: str, email: str | None = None) -> None:
    if email is None:
        log_in(page, base)
    else:
        log_in(page, base, email=email)
    page.goto(f"{base}/grid")
    page.wait_for_selector('.tabulator-row .tabulator-cell[tabulator-field="name"]', timeout=30_000)


def cell(page: Page, field: str, row: int = 0) -> Locator:
    return (
        page.locator(".tabulator-row")
        .nth(row)
        .locator(f'.tabulator-cell[tabulator-field="{field}"]')
    )


def type_into(page: Page, target: Locator, text: str) -> None:
    """Double-click a cell (opens its editor), replace its text, press Enter."""
    target.dblclick()
    editor = page.locator(".tabulator-cell.tabulator-editing input")
    editor.wait_for()
    editor.press("Control+a")
    editor.type(text)
    editor.press("Enter")


def test_an_edit_saves_survives_reload_and_the_keyboard_works(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    errors = page_errors(page)
    with served(team_data) as base:
        open_grid(page, base)
        first_name = cell(page, "name").inner_text()
        new_city = f"Lisbon {time.time_ns() % 10_000}"
        cell(page, "location").click()  # selects the cell...
        page.keyboard.press("Enter")  # ...Enter edits it
        editor = page.locator(".tabulator-cell.tabulator-editing input")
        editor.press("Control+a")
        editor.type(new_city)
        editor.press("Tab")  # commits and moves to the next cell's editor, as in a spreadsheet
        expect(page.get_by_text("Saved Location")).to_be_visible(timeout=10_000)
        website = page.locator('.tabulator-cell.tabulator-editing[tabulator-field="website"] input')
        website.wait_for()
        website.type("typo that Escape cancels")
        website.press("Escape")
        expect(page.locator(".tabulator-cell.tabulator-editing")).to_have_count(0)
        page.keyboard.press("ArrowDown")  # the active cell moves down a row...
        page.keyboard.press("Enter")  # ...and Enter opens its editor
        below = page.locator('.tabulator-cell.tabulator-editing[tabulator-field="website"] input')
        below.wait_for()
        below.press("Control+a")
        below.type("kbd.example")
        below.press("Enter")
        expect(page.get_by_text("Saved Website")).to_be_visible(timeout=10_000)
        page.screenshot(path=str(shots(tmp_path) / "grid.png"))
        page.reload()
        page.wait_for_selector('.tabulator-cell[tabulator-field="name"]', timeout=30_000)
        expect(cell(page, "name")).to_have_text(first_name)
        expect(cell(page, "location")).to_have_text(new_city)
        assert "typo" not in cell(page, "website").inner_text()
        expect(cell(page, "website", row=1)).to_have_text("https://kbd.example")
        cell(page, "status").dblclick()  # a single select: pick from its list
        page.locator(
            ".tabulator-edit-list .tabulator-edit-list-item", has_text="Due diligence"
        ).click()
        expect(page.get_by_text("Saved Status")).to_be_visible(timeout=10_000)
        expect(cell(page, "status")).to_have_text("Due diligence")
        cell(page, "open").click()
        expect(page.locator(".crm-record-title")).to_contain_text(first_name, timeout=10_000)
        expect(page.get_by_text("Due diligence").last).to_be_visible()
        page.add_style_tag(content=".notyf { display: none !important; }")
        page.screenshot(path=str(shots(tmp_path) / "record-panel.png"), full_page=True)
    assert errors == []


def test_adding_a_field_and_a_formula_field_from_the_grid(page: Page, team_data: Path) -> None:
    with served(team_data) as base:
        open_grid(page, base)
        page.get_by_role("button", name="⚙ Fields").click()
        page.locator(".crm-new-field input").fill("Check size")
        page.locator(".crm-new-type select").select_option(label="Currency")
        page.get_by_role("button", name="Add field").click()
        expect(page.locator('.tabulator-col[tabulator-field="check_size"]')).to_be_visible(
            timeout=10_000
        )
        page.locator(".crm-new-field input").fill("Fee")
        page.locator(".crm-new-type select").select_option(label="Formula")
        formula = page.locator(".crm-new-formula textarea")
        formula.fill("{Chek size} * 0.02")
        formula.press("End")  # value_input follows typing
        expect(page.get_by_text("did you mean {Check size}?")).to_be_visible(timeout=10_000)
        formula.fill("{Check size} * 0.02")
        formula.press("End")
        expect(page.get_by_text("✓ Valid — gives a number")).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Add field").click()
        expect(page.locator('.tabulator-col[tabulator-field="fee"]')).to_be_visible(timeout=10_000)
        type_into(page, cell(page, "check_size"), "1000000")
        expect(page.get_by_text("Saved Check size")).to_be_visible(timeout=10_000)
        expect(cell(page, "fee")).to_have_text("20000", timeout=10_000)


def add_sort(page: Page, count: int) -> None:
    """Press "+ Sort" until the builder shows ``count`` sorts: a click that lands while the
    builder is still redrawing after the previous change is lost (it rebuilds its widgets)."""
    sorts = page.locator(".crm-sort")
    for _ in range(3):
        page.wait_for_timeout(300)
        page.get_by_role("button", name="+ Sort").click()
        try:
            expect(sorts).to_have_count(count, timeout=5_000)
            return
        except AssertionError:
            continue
    expect(sorts).to_have_count(count)


def test_a_view_with_and_or_filters_and_two_sorts_is_saved_and_reopened(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=team_data)
    with served(team_data) as base:
        open_grid(page, base)
        page.get_by_role("button", name="☰ View: filter, sort, columns, export").click()
        page.locator(".crm-view-list select").select_option(label="All")
        page.get_by_role("button", name="+ Condition").first.click()
        condition = page.locator(".crm-condition").nth(0)
        condition.locator("select").nth(0).select_option(label="Status")
        condition = page.locator(".crm-condition").nth(0)
        condition.locator("select").nth(1).select_option(label="is")
        page.locator(".crm-condition").nth(0).locator("select").nth(2).select_option(
            label="Committed"
        )
        page.get_by_role(
            "button", name="+ Group"
        ).first.click()  # (Type is FO OR Type is Endowment)
        group = page.locator(".crm-condition").nth(1)
        group.locator("select").nth(0).select_option(label="Type")
        page.locator(".crm-condition").nth(1).locator("select").nth(1).select_option(label="is")
        page.locator(".crm-condition").nth(1).locator("select").nth(2).select_option(
            label="Family office"
        )
        page.locator(".crm-group-2").get_by_role("button", name="+ Condition").click()
        page.locator(".crm-condition").nth(2).locator("select").nth(0).select_option(label="Type")
        page.locator(".crm-condition").nth(2).locator("select").nth(1).select_option(label="is")
        third = page.locator(".crm-condition").nth(2).locator("select").nth(2)
        third.select_option(label="Endowment")
        add_sort(page, 1)
        page.locator(".crm-sort").nth(0).locator("select").nth(0).select_option(label="Type")
        add_sort(page, 2)
        page.locator(".crm-sort").nth(1).locator("select").nth(0).select_option(label="Name")
        page.locator(".crm-sort").nth(1).locator("select").nth(1).select_option(
            label="Z → A / 9 → 1"
        )
        page.locator(".crm-view-name input").fill("Committed FO and endowments")
        page.screenshot(path=str(shots(tmp_path) / "view-builder.png"), full_page=True)
        page.get_by_role("button", name="Save as new view").click()
        expect(page.get_by_text("Saved view Committed FO and endowments.").first).to_be_visible(
            timeout=10_000
        )

        ctx = crm_lib.open_crm(settings=settings, actor="system:test")
        [view] = [v for v in services.list_views(ctx) if v["name"] == "Committed FO and endowments"]
        expected = [r["name"] for r in services.grid_page(ctx, view, page_size=50).rows]
        ctx.close()
        assert view["filters"]["op"] == "and" and view["filters"]["conditions"][1]["op"] == "or"
        assert [s["field"] for s in view["sorts"]] == ["type", "name"]
        assert expected  # the demo has committed family offices and endowments
        names = page.locator('.tabulator-row .tabulator-cell[tabulator-field="name"]')
        expect(names.first).to_have_text(expected[0], timeout=10_000)

        page.reload()
        page.wait_for_selector('.tabulator-cell[tabulator-field="name"]', timeout=30_000)
        page.locator(".crm-view-choice select").select_option(
            label="Committed FO and endowments (shared)"
        )
        expect(names.first).to_have_text(expected[0], timeout=10_000)
        shown = names.all_inner_texts()
        assert shown[: min(10, len(expected))] == expected[: min(10, len(expected))]


def test_two_people_editing_one_record_the_second_sees_the_conflict(
    browser: Browser, team_data: Path
) -> None:
    alice = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    bob = browser.new_context(viewport={"width": 1300, "height": 900}).new_page()
    with served(team_data) as base:
        open_grid(alice, base)
        open_grid(bob, base, email=BOB)
        cell(bob, "location").dblclick()  # Bob starts typing...
        bob_editor = bob.locator(".tabulator-cell.tabulator-editing input")
        bob_editor.wait_for()
        type_into(alice, cell(alice, "location"), "Alice's city")  # ...Alice saves first
        expect(alice.get_by_text("Saved Location")).to_be_visible(timeout=10_000)
        bob_editor.press("Control+a")
        bob_editor.type("Bob's city")
        bob_editor.press("Enter")
        expect(bob.get_by_text("Alice changed this record").first).to_be_visible(timeout=10_000)
        expect(cell(bob, "location")).to_have_text("Alice's city", timeout=10_000)
        type_into(alice, cell(alice, "location"), "Alice again")
        expect(cell(bob, "location")).to_have_text("Alice again", timeout=2_000)  # live, ≤ 2 s
    alice.context.close()
    bob.context.close()


def test_archive_a_row_then_restore_it_and_open_its_record(page: Page, team_data: Path) -> None:
    with served(team_data) as base:
        open_grid(page, base)
        name = cell(page, "name").inner_text()
        page.locator(".tabulator-row").first.locator("input[type=checkbox]").first.click()
        page.get_by_role("button", name="Archive selected").click()
        page.get_by_role("button", name="Archive", exact=True).click()  # the confirm step
        expect(page.get_by_text("Archived 1 investor").first).to_be_visible(timeout=10_000)
        expect(cell(page, "name")).not_to_have_text(name)
        page.get_by_text("Archived (1)").click()
        expect(cell(page, "name")).to_have_text(name, timeout=10_000)
        page.locator(".tabulator-row").first.locator("input[type=checkbox]").first.click()
        page.get_by_role("button", name="Restore selected").click()
        expect(page.get_by_text("Restored 1 investor").first).to_be_visible(timeout=10_000)
        page.get_by_text("Archived (0)").wait_for(timeout=10_000)
        page.get_by_text("Main (", exact=False).first.click()
        page.locator(".crm-search input").fill(name)
        page.locator(".crm-search input").press("Enter")
        expect(cell(page, "name")).to_have_text(name, timeout=10_000)
        cell(page, "open").click()
        expect(page.locator(".crm-record-title")).to_contain_text(name, timeout=10_000)
        expect(page.get_by_text("restored investor").first).to_be_visible()


def test_dates_and_timestamps_show_as_dates_never_blank_or_nan(page: Page, team_data: Path) -> None:
    """Panel sends date columns to the browser as epoch milliseconds (and a missing date as
    NaN): the grid shows the stored date, a blank for no date, and timestamps to the minute."""
    settings = Settings(data_dir=team_data, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    services.create_investor(ctx, {"name": "Zephyr Dated LP", "last_contacted_at": "2026-11-20"})
    services.create_investor(ctx, {"name": "Quokka Undated LP"})
    ctx.close()
    with served(team_data) as base:
        open_grid(page, base)
        search = page.get_by_placeholder("Search name, location, notes")
        search.fill("Zephyr")
        search.press("Enter")
        expect(cell(page, "name")).to_have_text("Zephyr Dated LP", timeout=10_000)
        expect(cell(page, "last_contacted_at")).to_have_text("2026-11-20")
        created = cell(page, "created_at").inner_text()
        assert len(created) == len("2026-12-06 09:00") and created[10] == " ", created
        search.fill("Quokka")
        search.press("Enter")
        expect(cell(page, "name")).to_have_text("Quokka Undated LP", timeout=10_000)
        expect(cell(page, "last_contacted_at")).to_have_text("")


@contextmanager
def crm(data_dir: Path) -> Iterator[crm_lib.Context]:
    """The library on the served database, as another process (what was stored, not shown)."""
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        yield ctx
    finally:
        ctx.close()


def find(page: Page, name: str) -> None:
    """Search the grid for ``name`` and wait until it is the first row."""
    search = page.get_by_placeholder("Search name, location, notes")
    search.fill(name)
    search.press("Enter")
    expect(cell(page, "name")).to_have_text(name, timeout=10_000)


def test_long_text_enter_saves_and_shift_enter_starts_a_new_line(
    page: Page, team_data: Path
) -> None:
    """The README's keyboard: Enter saves a long text cell, Shift+Enter types a new line; the
    Enter that saves is never stored, and nothing else is trimmed."""
    with crm(team_data) as ctx:
        investor_id = services.create_investor(ctx, {"name": "Noted Partners LP"})["id"]
    errors = page_errors(page)
    with served(team_data) as base:
        open_grid(page, base)
        find(page, "Noted Partners LP")
        cell(page, "notes").dblclick()
        editor = page.locator(".tabulator-cell.tabulator-editing textarea")
        editor.wait_for()
        editor.type("line1")
        editor.press("Shift+Enter")
        editor.type("line2")
        editor.press("Enter")
        expect(page.get_by_text("Saved Notes")).to_be_visible(timeout=10_000)
        expect(page.locator(".tabulator-cell.tabulator-editing")).to_have_count(0)
        with crm(team_data) as ctx:
            assert services.get_investor(ctx, investor_id)["investor"]["notes"] == "line1\nline2"
        page.reload()  # the cell holds what was stored; rows are one line high, as in Airtable
        page.wait_for_selector('.tabulator-cell[tabulator-field="name"]', timeout=30_000)
        find(page, "Noted Partners LP")
        assert cell(page, "notes").text_content() == "line1\nline2"
        assert cell(page, "notes").inner_text() == "line1 line2"
        cell(page, "notes").dblclick()  # spaces the person typed are kept as typed
        editor.wait_for()
        editor.press("Control+a")
        editor.type("  indented, then spaces  ")
        editor.press("Enter")
        expect(page.get_by_text("Saved Notes")).to_be_visible(timeout=10_000)
        with crm(team_data) as ctx:
            notes = services.get_investor(ctx, investor_id)["investor"]["notes"]
        assert notes == "  indented, then spaces  "
    assert errors == []


def pick_history_row(page: Page, text: str) -> None:
    """Click the record's history row holding ``text`` until it shows as picked: under load the
    history can still be drawing when the first click lands, and that click is lost."""
    selected = page.locator(".crm-record .tabulator-row.tabulator-selected")
    for _ in range(2):
        page.locator(".crm-record .tabulator-row").filter(has_text=text).click()
        try:
            expect(selected).to_contain_text(text, timeout=10_000)
            return
        except AssertionError:
            continue
    page.locator(".crm-record .tabulator-row").filter(has_text=text).click()
    expect(selected).to_contain_text(text, timeout=10_000)


def test_restore_this_value_restores_the_change_picked_after_the_history_refreshes(
    page: Page, team_data: Path
) -> None:
    """Pick "Status: Prospect → Meeting" in the history, add a person (the history refreshes,
    a new row on top), restore: Prospect comes back, not the value of the row that moved
    into the picked row's place. A pick that someone else's change overtook restores nothing."""
    with crm(team_data) as ctx:
        investor = services.create_investor(ctx, {"name": "Drift Capital", "status": "Prospect"})
        services.update_field(ctx, investor["id"], "status", "Meeting", expected_version=1)
        services.update_field(ctx, investor["id"], "status", "Passed", expected_version=2)
    errors = page_errors(page)
    with served(team_data) as base:
        open_grid(page, base)
        find(page, "Drift Capital")
        cell(page, "open").click()
        expect(page.locator(".crm-record-title")).to_contain_text("Drift Capital", timeout=10_000)
        history = page.locator(".crm-record .tabulator-row")
        pick_history_row(page, "Status: Prospect → Meeting")
        page.locator(".crm-record input[type=text]").first.fill("Grace Hopper")
        page.get_by_role("button", name="Add person").click()
        expect(history.filter(has_text="created person")).to_have_count(1, timeout=10_000)
        expect(page.locator(".crm-record .tabulator-row.tabulator-selected")).to_contain_text(
            "Prospect → Meeting"
        )
        page.get_by_role("button", name="Restore this value").click()
        expect(page.get_by_text("Value restored.").first).to_be_visible(timeout=10_000)
        with crm(team_data) as ctx:
            restored = services.get_investor(ctx, investor["id"])["investor"]
        assert (restored["status"], restored["version"]) == ("Prospect", 4)
        # pick another change, and let the pick reach the server before the other write lands
        # (else the refresh that write causes can arrive first and find nothing picked)
        pick_history_row(page, "Status: Meeting → Passed")
        expect(page.get_by_role("button", name="Restore this value")).to_be_enabled()
        with crm(team_data) as ctx:  # ...which someone else overtakes before it is restored
            services.update_field(ctx, investor["id"], "location", "Oslo", expected_version=4)
        page.get_by_role("button", name="Restore this value").click()
        expect(
            page.get_by_text("Not restored: system:test changed Drift Capital").first
        ).to_be_visible(timeout=10_000)
        with crm(team_data) as ctx:
            unchanged = services.get_investor(ctx, investor["id"])["investor"]
        assert (unchanged["status"], unchanged["version"]) == ("Prospect", 5)
    assert errors == []


def test_a_frozen_column_stays_at_the_left_when_scrolling_and_after_a_reload(
    page: Page, team_data: Path
) -> None:
    """Freeze Location in the view builder, save the view as one's default: Location stays in
    sight at the left while the grid scrolls sideways (Type, not frozen, scrolls away), and is
    still frozen after a reload."""
    errors = page_errors(page)
    with served(team_data) as base:
        open_grid(page, base)
        page.get_by_role("button", name="☰ View: filter, sort, columns, export").click()
        frozen = page.locator(".crm-view-builder .choices").nth(1)
        frozen.click()
        frozen.locator(".choices__item--choice", has_text="Location").first.click()
        page.locator(".crm-view-name input").fill("Pinned location")
        page.get_by_role("button", name="Save as new view").click()
        expect(page.get_by_text("Saved view Pinned location.").first).to_be_visible(timeout=10_000)
        page.get_by_role("button", name="Make it my default").click()
        expect(page.get_by_text("This view now opens first for you.").first).to_be_visible(
            timeout=10_000
        )
        with crm(team_data) as ctx:
            [view] = [v for v in services.list_views(ctx) if v["name"] == "Pinned location"]
        assert "location" in view["frozen_fields"]
        check_frozen_at_left(page, "location", scrolled_away="type")
        page.reload()
        page.wait_for_selector('.tabulator-cell[tabulator-field="name"]', timeout=30_000)
        check_frozen_at_left(page, "location", scrolled_away="type")
    assert errors == []


def check_frozen_at_left(page: Page, field: str, scrolled_away: str) -> None:
    """Scroll the grid to its right end: ``field``'s header and first cell are frozen and in
    sight at the table's left; ``scrolled_away`` (not frozen) has left the visible area."""
    header = page.locator(f'.tabulator-col[tabulator-field="{field}"]')
    expect(header).to_have_class(re.compile(r"\btabulator-frozen\b"), timeout=10_000)
    holder = page.locator(".tabulator-tableholder").first
    width = holder.evaluate("el => el.scrollWidth - el.clientWidth")
    assert width > 0, "the grid is not wider than its box: nothing to scroll"
    holder.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    page.wait_for_function("el => el.scrollLeft > 0", arg=holder.element_handle())
    box = holder.bounding_box()
    assert box is not None
    for target in (header, cell(page, field)):
        where = target.bounding_box()
        assert where is not None
        assert box["x"] <= where["x"] < box["x"] + box["width"] / 2, (field, where, box)
        assert where["x"] + where["width"] <= box["x"] + box["width"]
    other = cell(page, scrolled_away).bounding_box()
    assert other is not None
    assert other["x"] + other["width"] <= box["x"], (scrolled_away, other, box)
