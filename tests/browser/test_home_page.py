"""The served home page as a person sees it in Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from crm_lib import analytics
from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors

pytestmark = pytest.mark.browser


def test_home_page_shows_funds_counts_and_top_investors(
    page: Page, demo_dir: Path, demo_with_admin: Path
) -> None:
    errors = page_errors(page)
    duck = analytics.connect(demo_dir)
    [(top_name, top_total)] = duck.sql(
        "SELECT name, total_invested FROM investors ORDER BY total_invested DESC, name, id LIMIT 1"
    ).fetchall()
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        page.wait_for_selector('.tabulator-cell[tabulator-field="Fund"]', timeout=30_000)
        expect(page.get_by_text("Venture CRM").first).to_be_visible()
        fund_cells = page.locator('.tabulator-cell[tabulator-field="Fund"]')
        expect(fund_cells).to_have_text(["Fund I", "Fund II", "Fund III"])
        vintage = page.locator('.tabulator-cell[tabulator-field="Vintage"]').first.inner_text()
        assert "," not in vintage  # a year, not "2,017"
        first_investor = page.locator('.tabulator-cell[tabulator-field="Investor"]').first
        expect(first_investor).to_have_text(top_name)
        expect(page.get_by_text(f"${top_total:,.0f}").first).to_be_visible()
        expect(page.get_by_text("300", exact=True).first).to_be_visible()  # all investors
        expect(page.get_by_text("Signed in as Alice (admin)")).to_be_visible()
        page.screenshot(path=str(demo_with_admin.parent / "home.png"), full_page=True)
    assert errors == []


def test_logging_out_in_another_tab_sends_open_pages_to_the_login_page(
    page: Page, demo_with_admin: Path
) -> None:
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        page.wait_for_selector('.tabulator-cell[tabulator-field="Fund"]', timeout=30_000)
        other_tab = page.context.new_page()  # same browser, same cookie
        other_tab.goto(f"{base}/logout")
        other_tab.click("button[type=submit]")
        other_tab.wait_for_url("**/login?notice=*")
        # the first tab was open all along: the server tells it to reload, which lands on login
        page.wait_for_url("**/login?next=%2F", timeout=10_000)
        expect(page.locator("input[name=email]")).to_be_visible()
