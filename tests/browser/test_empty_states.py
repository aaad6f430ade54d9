"""A table with no rows says what to do next, inside the table, instead of an empty grid."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in
from tests.browser.test_grid_page import served

pytestmark = pytest.mark.browser


def test_empty_tables_say_what_to_do_next(page: Page, team_data: Path) -> None:
    with served(team_data) as base:
        log_in(page, base)
        page.goto(f"{base}/account")
        expect(page.locator(".tabulator-placeholder").first).to_contain_text(
            "No API tokens. Create one below", timeout=30_000
        )
        page.goto(f"{base}/requests")
        expect(
            page.get_by_text("No feature requests yet. File the first one below.")
        ).to_be_visible(timeout=30_000)
