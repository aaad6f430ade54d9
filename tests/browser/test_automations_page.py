"""The automations page in Chromium, as an admin uses it: add a template, dry-run it (the
changes listed, each a link to its investor's record), turn it on, and see it in the rules
table; nothing on the page fails to load."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, page_errors
from tests.browser.test_grid_page import served, shots

pytestmark = pytest.mark.browser


def test_an_admin_dry_runs_a_template_and_turns_it_on(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    errors = page_errors(page)
    with served(team_data) as base:
        log_in(page, base)
        page.goto(f"{base}/automations")
        expect(page.get_by_text("No rules yet. Start from a template below.")).to_be_visible(
            timeout=30_000
        )
        page.get_by_role("button", name="Add from template").click()
        expect(page.get_by_text("off: dry-run it, then turn it on").first).to_be_visible(
            timeout=10_000
        )
        expect(page.locator(".crm-sentence")).to_contain_text(
            "When an investor has had no two-way email for 180 days"
        )
        page.get_by_role("button", name="Dry run").click()
        changes = page.locator(".crm-run-changes")
        expect(changes).to_contain_text("would change", timeout=10_000)
        link = changes.locator("a").first
        assert (link.get_attribute("href") or "").startswith("/record?id=")
        page.get_by_role("button", name="Turn on").click()
        expect(page.get_by_text("is on.").first).to_be_visible(timeout=10_000)
        expect(page.get_by_role("button", name="Turn off")).to_be_visible()
        page.screenshot(path=str(shots(tmp_path) / "automations.png"), full_page=True)
    assert errors == []
