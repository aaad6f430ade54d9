"""Search in Chromium: type in the header's box on any page, press Enter, read the results
grouped by investor with the matched words marked, and open a thread from a hit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Page, expect

import crm_lib
from crm_lib.config import Settings
from crm_lib.demo import load_demo_email
from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors
from tests.conftest import DEMO_AS_OF

pytestmark = pytest.mark.browser


def test_search_from_the_header_and_open_a_thread(page: Page, demo_with_admin: Path) -> None:
    ctx = crm_lib.open_crm(
        settings=Settings(data_dir=demo_with_admin, password_hashing=profiles.CHEAPEST),
        actor="system:test",
    )
    load_demo_email(ctx, 450, as_of=DEMO_AS_OF)  # the shared demo has no mail
    ctx.close()
    errors = page_errors(page)
    port = free_port()
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, demo_with_admin, port, extra_env={"CRM_JOBS": "off"}) as base:
        log_in(page, base)
        page.goto(f"{base}/contacts")
        box = page.locator('.crm-search-slot input[name="q"]')
        expect(box).to_be_visible(timeout=30_000)
        box.fill("capital call")
        box.press("Enter")
        page.wait_for_url("**/search?q=capital+call")
        # the first search after start may wait for the index the server is building
        main = page.locator(".crm-main").first
        expect(main).to_have_attribute("data-crm-shown", "1", timeout=60_000)
        results = page.locator(".crm-hits-investor")
        expect(results.first).to_be_visible()
        expect(page.locator(".crm-hit mark", has_text="capital").first).to_be_visible()
        expect(page.get_by_text("results for")).to_be_visible()
        page.locator(".bk-btn", has_text="Exact words").click()
        expect(results.first).to_be_visible(timeout=30_000)
        page.wait_for_timeout(500)  # the results are drawn again for the new mode: click those
        thread = page.locator(".crm-hit-head a[href^='/email?thread=']").first
        thread.click()
        page.wait_for_url("**/email?thread=*")
        expect(page.locator(".crm-mail").first).to_be_visible(timeout=30_000)
    assert errors == []
