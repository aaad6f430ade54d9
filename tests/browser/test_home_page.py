"""The served home page as a person sees it in Chromium."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from apps.links import grid_url, record_url
from crm_lib import analytics
from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors

pytestmark = pytest.mark.browser

BAD_TOKENS = re.compile(r"\b(NaN|None|null|undefined|NaT)\b")
RAW_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def test_home_page_shows_the_figures_and_links_to_the_rows_behind_them(
    page: Page, demo_dir: Path, demo_with_admin: Path
) -> None:
    errors = page_errors(page)
    duck = analytics.connect(demo_dir)
    [(top_id, top_name, top_total)] = duck.sql(
        "SELECT id, name, total_invested FROM investors"
        " ORDER BY total_invested DESC, name, id LIMIT 1"
    ).fetchall()
    [(follow_ups,)] = duck.sql(
        "SELECT count(*) FROM investors WHERE list_membership = 'follow_up'"
    ).fetchall()
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        fund_names = page.locator(".crm-fund-name")
        expect(fund_names).to_have_text(["Fund I", "Fund II", "Fund III"], timeout=30_000)
        expect(page.get_by_text("Venture CRM").first).to_be_visible()
        expect(page.locator(".crm-funds")).to_contain_text("of $350,000,000 target")
        top = page.locator(".crm-top li").first
        expect(top).to_contain_text(f"{top_name} — ${top_total:,.0f}")
        expect(page.locator(".crm-recent")).to_contain_text("Demo data created 300 investors")
        page.wait_for_timeout(500)  # late updates (the browser's timezone) settle
        text = page.evaluate("document.body.innerText")
        assert BAD_TOKENS.search(text) is None, BAD_TOKENS.search(text)
        assert RAW_ISO.search(text) is None, RAW_ISO.search(text)
        assert "follow_up" not in text  # lists by their labels
        page.screenshot(path=str(demo_with_admin.parent / "home.png"), full_page=True)

        # a list opens in the grid on its tab
        page.locator("a.crm-card", has_text="Follow-up").click()
        page.wait_for_url(f"{base}{grid_url(list_key='follow_up')}")
        expect(page.locator(".crm-summary")).to_contain_text(
            f"{follow_ups:,} investors", timeout=30_000
        )

        # what needs attention opens the grid filtered to exactly those investors
        page.goto(f"{base}/")
        item = page.locator(".crm-attention-item").first
        expect(item).to_be_visible(timeout=30_000)
        count = item.locator(".crm-count").inner_text()
        item.locator(".crm-attention-title a").click()
        page.wait_for_url(re.compile(r".*/grid\?preset=\w+$"))
        expect(page.locator(".crm-summary")).to_contain_text(f"{count} investors", timeout=30_000)

        # a name opens its record
        page.goto(f"{base}/")
        page.locator(".crm-top li a").first.click()
        page.wait_for_url(f"{base}{record_url(top_id)}")
        expect(page.locator(".crm-record-title")).to_contain_text(top_name, timeout=30_000)
    assert errors == []


def test_logging_out_in_another_tab_sends_open_pages_to_the_login_page(
    page: Page, demo_with_admin: Path
) -> None:
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        page.wait_for_selector(".crm-fund-name", timeout=30_000)
        other_tab = page.context.new_page()  # same browser, same cookie
        other_tab.goto(f"{base}/logout")
        other_tab.click("button[type=submit]")
        other_tab.wait_for_url("**/login?notice=*")
        # the first tab was open all along: the server tells it to reload, which lands on login
        page.wait_for_url("**/login?next=%2F", timeout=10_000)
        expect(page.locator("input[name=email]")).to_be_visible()
