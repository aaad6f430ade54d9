"""The grid's table in Chromium beyond editing one cell: the column header menu, a pasted range
and its undo, the footer, and edits made while the server is down, saved when it is back."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.apps.server import free_port, running
from tests.browser.conftest import page_errors
from tests.browser.test_grid_page import cell, open_grid, served, type_into

pytestmark = pytest.mark.browser

#: Paste ``text`` into the table as a spreadsheet's Ctrl+V would (the clipboard's text/plain).
PASTE_JS = """([text]) => {
  const data = new DataTransfer();
  data.setData('text/plain', text);
  const found = window.Tabulator.registry.tables.find((t) =>
    (t.options.columns || []).some((c) => c.field === 'open'));
  found.element.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
}"""


#: The browser's kept (unsaved) grid edits, by storage key.
KEPT_JS = "Object.keys(window.localStorage).filter((k) => k.startsWith('crm-grid-unsaved'))"


def footer(page: Page):
    return page.locator("[data-crm-bridge=on]")


def test_header_menu_paste_undo_and_footer(page: Page, team_data: Path, tmp_path: Path) -> None:
    errors = page_errors(page)
    with served(team_data) as base:
        open_grid(page, base)
        expect(footer(page)).to_contain_text("investors in this view", timeout=10_000)
        # the totals follow the page (a read thread sums them): under a loaded CI machine 5 s
        # was once too short
        expect(footer(page)).to_contain_text("Totals:", timeout=15_000)
        # pills take their colours from the design tokens, inside Tabulator's shadow root too
        pill = page.locator(".tabulator-cell .crm-pill").first
        background = pill.evaluate("(e) => getComputedStyle(e).backgroundColor")
        assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background

        # the header menu hides a column, and the view remembers it after a reload
        header = page.locator('.tabulator-col[tabulator-field="location"]')
        header.locator(".tabulator-header-popup-button").click()
        page.locator(".tabulator-menu-item", has_text="Hide field").click()
        expect(page.locator('.tabulator-col[tabulator-field="location"]')).to_be_hidden(
            timeout=10_000
        )

        # grouping by a field heads each group with its label and its count in the whole view
        status = page.locator('.tabulator-col[tabulator-field="status"]')
        status.locator(".tabulator-header-popup-button").click()
        page.locator(".tabulator-menu-item", has_text="Group by this field").click()
        expect(page.locator(".tabulator-group").first).to_contain_text(
            re.compile(r"Status: .+ · [\d,]+ investors?"), timeout=10_000
        )
        status.locator(".tabulator-header-popup-button").click()
        page.locator(".tabulator-menu-item", has_text="Ungroup").click()
        expect(page.locator(".tabulator-group")).to_have_count(0, timeout=10_000)

        # a pasted 2 x 1 range lands in two rows of one column, as one write, and Ctrl+Z undoes it
        before = [cell(page, "website", 0).inner_text(), cell(page, "website", 1).inner_text()]
        cell(page, "website", 0).click()
        page.evaluate(PASTE_JS, ["one.example\ntwo.example"])
        expect(page.get_by_text("Pasted 2 cells.").first).to_be_visible(timeout=10_000)
        expect(cell(page, "website", 0)).to_have_text("https://one.example")
        expect(cell(page, "website", 1)).to_have_text("https://two.example")
        cell(page, "website", 0).click()
        page.keyboard.press("Control+z")
        expect(page.get_by_text("Undid the paste of 2 cells.").first).to_be_visible(timeout=10_000)
        expect(cell(page, "website", 0)).to_have_text(before[0])

        # a bad cell refuses the whole paste and names it
        fund = page.locator('.tabulator-col[tabulator-field^="fund:"]').first
        fund_key = fund.get_attribute("tabulator-field")
        cell(page, fund_key, 0).click()
        page.evaluate(PASTE_JS, ["lots"])
        expect(page.get_by_text("Nothing was pasted: 1 cell does not fit.").first).to_be_visible(
            timeout=10_000
        )
        page.screenshot(path=str(tmp_path / "grid-table.png"))
        # edits the server settled (saved, refused) and cells it patched are not kept to replay
        type_into(page, cell(page, "website", 2), "kept.example")
        expect(page.get_by_text("Saved Website").first).to_be_visible(timeout=10_000)
        page.wait_for_timeout(500)
        assert page.evaluate(KEPT_JS) == []
        assert not [e for e in errors if "console error" in e], errors


def test_edits_made_while_the_server_is_down_are_saved_when_it_is_back(
    page: Page, team_data: Path
) -> None:
    port = free_port()
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, team_data, port) as base:
        open_grid(page, base)
        expect(footer(page)).to_contain_text("investors in this view", timeout=10_000)
        name = cell(page, "name", 0).inner_text()
    # the server is gone: the page says so, and an edit is kept in the browser
    expect(footer(page)).to_contain_text("Offline", timeout=15_000)
    target = cell(page, "location", 0)
    target.dblclick()
    editor = page.locator(".tabulator-cell.tabulator-editing input")
    editor.wait_for()
    editor.press("Control+a")
    editor.type("Reykjavik")
    editor.press("Enter")
    expect(footer(page)).to_contain_text("1 unsaved edit kept in this browser", timeout=5_000)
    with running(command, team_data, port) as base:
        page.goto(f"{base}/grid")  # a new page after the restart replays what was kept
        page.wait_for_selector('.tabulator-cell[tabulator-field="name"]', timeout=30_000)
        expect(page.get_by_text("Saved 1 edit made while offline.").first).to_be_visible(
            timeout=15_000
        )
        expect(cell(page, "location", 0)).to_have_text("Reykjavik")
        expect(cell(page, "name", 0)).to_have_text(name)
        kept = page.evaluate(
            "Object.keys(window.localStorage).filter(k => k.startsWith('crm-grid-unsaved'))"
        )
        assert kept == []
