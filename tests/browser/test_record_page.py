"""The record page as a person uses it in Chromium: opened from the grid's record panel, a field
edited in place, a reload that keeps the URL and the record, j / Alt+↑ to the next and previous
record of the grid's rows, and Esc back to the grid as it was left."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors
from tests.browser.test_walk import visible_problems

pytestmark = pytest.mark.browser
ROW = ".tabulator-row .tabulator-cell[tabulator-field='name']"


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port) as base:
        yield base


def cell(page: Page, field: str, row: int = 0) -> Locator:
    return (
        page.locator(".tabulator-row")
        .nth(row)
        .locator(f'.tabulator-cell[tabulator-field="{field}"]')
    )


def title(page: Page) -> Locator:
    return page.locator(".crm-record-title h2")


def keys_ready(page: Page) -> None:
    """The keyboard listener is on (the page's keys component has rendered)."""
    page.wait_for_selector("[data-crm-keys=on]", state="attached", timeout=15_000)


def test_open_edit_reload_step_and_go_back_to_the_grid(
    page: Page, demo_with_admin: Path, tmp_path: Path
) -> None:
    errors = page_errors(page)
    with served(demo_with_admin) as base:
        log_in(page, base)
        page.goto(f"{base}/grid?list=all")
        page.wait_for_selector(ROW, timeout=30_000)
        page.get_by_role("button", name="▶").click()  # page 2 of All: rows 51-100
        expect(page.locator(".crm-summary")).to_contain_text("page 2 of", timeout=10_000)
        second, third = cell(page, "name", 1).inner_text(), cell(page, "name", 2).inner_text()
        cell(page, "open", 1).click()
        expect(page.locator(".crm-record-title")).to_contain_text(second, timeout=10_000)
        page.locator(".crm-open-record-link").click()

        # the record page, at its own URL, with the grid's place in it
        page.wait_for_url(re.compile(r"/record\?id=\d+&list=all&pos=51$"), timeout=30_000)
        record_url = page.url
        expect(title(page)).to_have_text(second, timeout=30_000)
        expect(page.locator(".crm-record-nav")).to_contain_text("52 of 300")

        # a field edited in place
        city = f"Lisbon {time.time_ns() % 10_000}"
        box = page.locator(".crm-field-location input")
        box.fill(city)
        box.press("Enter")
        expect(page.get_by_text("Saved Location.").first).to_be_visible(timeout=10_000)

        # a reload keeps the URL and shows the same record, with the saved value
        page.reload()
        expect(title(page)).to_have_text(second, timeout=30_000)
        assert page.url == record_url
        expect(page.locator(".crm-field-location input")).to_have_value(city)
        page.wait_for_timeout(1000)  # late updates (the browser's timezone) settle
        assert visible_problems(page) == []
        page.screenshot(path=str(tmp_path / "record.png"), full_page=True)

        # j: the next record of the grid's rows; Alt+Up: back to the previous one
        keys_ready(page)
        title(page).click()  # the keys act when no text box has the focus
        page.keyboard.press("j")
        page.wait_for_url(re.compile(r"pos=52$"), timeout=30_000)
        expect(title(page)).to_have_text(third, timeout=30_000)
        keys_ready(page)
        title(page).click()
        page.keyboard.press("Alt+ArrowUp")
        page.wait_for_url(re.compile(r"pos=51$"), timeout=30_000)
        expect(title(page)).to_have_text(second, timeout=30_000)

        # typing "j" into a field types it; it does not leave the page
        box = page.locator(".crm-field-location input")
        box.press("End")
        box.press("j")
        expect(box).to_have_value(city + "j")
        assert page.url.endswith("pos=51")
        box.press("Control+a")
        box.type(city)  # the same value: nothing to save
        box.blur()

        # Esc: back to the grid as it was left (list, page), the edited row in place
        keys_ready(page)
        title(page).click()
        page.keyboard.press("Escape")
        page.wait_for_url(re.compile(r"/grid\?list=all&pos=51$"), timeout=30_000)
        page.wait_for_selector(ROW, timeout=30_000)
        expect(page.locator(".crm-summary")).to_contain_text("page 2 of", timeout=10_000)
        expect(cell(page, "name", 1)).to_have_text(second)
        expect(cell(page, "location", 1)).to_have_text(city)
    assert errors == []
