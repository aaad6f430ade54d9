"""The served activity page as a person reads it in Chromium: sentences grouped by day, no blanks
shown as "None" or timestamps as stored, filters that narrow the list, and an investor's link
that opens its record."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Page, expect

import crm_lib
from apps.links import record_url
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.server import free_port, running
from tests.browser.conftest import ADMIN_EMAIL, log_in, page_errors

pytestmark = pytest.mark.browser

BAD_TOKENS = re.compile(r"\b(NaN|None|null|undefined|NaT)\b")
RAW_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def alice_edits(data_dir: Path) -> int:
    """Alice adds Acme Capital and moves it (today); the demo's own events are days old."""
    ctx = crm_lib.open_crm(
        settings=Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST),
        actor="system:test",
    )
    try:
        alice = ctx.as_user(next(u for u in services.list_users(ctx) if u["email"] == ADMIN_EMAIL))
        acme = services.create_investor(alice, {"name": "Acme Capital", "location": "Boston"})
        services.update_field(alice, acme["id"], "location", "New York", expected_version=1)
        return acme["id"]
    finally:
        ctx.close()


def test_activity_reads_as_sentences_filters_and_opens_records(
    page: Page, demo_with_admin: Path
) -> None:
    acme_id = alice_edits(demo_with_admin)
    errors = page_errors(page)
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        page.goto(f"{base}/activity")
        feed = page.locator(".crm-activity")
        expect(feed).to_contain_text(
            "Alice changed Location of Acme Capital from Boston to New York", timeout=30_000
        )
        headings = page.locator(".crm-day-heading")
        expect(headings.first).to_have_text("Today")
        assert headings.count() >= 2  # the demo fund was loaded on another day
        expect(feed).to_contain_text("Demo data created 300 investors (ids 1 to 300)")
        page.wait_for_timeout(500)  # the browser's timezone arrives and the feed follows it
        text = page.evaluate("document.body.innerText")
        assert BAD_TOKENS.search(text) is None, BAD_TOKENS.search(text)
        assert RAW_ISO.search(text) is None, RAW_ISO.search(text)
        expect(page.locator(".crm-event time").first).to_have_attribute(
            "title", re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+$")
        )

        page.screenshot(path=str(demo_with_admin.parent / "activity.png"), full_page=True)

        # who: Alice's events only
        page.locator(".crm-person-choice select").select_option(label="Alice")
        expect(feed).not_to_contain_text("Demo data", timeout=10_000)
        expect(feed).to_contain_text("Alice added Acme Capital to Main")
        page.locator(".crm-person-choice select").select_option(label="Anyone")
        expect(feed).to_contain_text("Demo data", timeout=10_000)

        # which investor: typed, one match picked at once
        page.locator(".crm-investor-search input").press_sequentially("Acme Cap", delay=30)
        expect(page.locator(".crm-investor-choice select")).to_have_value(
            "Acme Capital", timeout=10_000
        )
        expect(feed).not_to_contain_text("Demo data", timeout=10_000)
        expect(page.locator(".crm-event")).to_have_count(2)

        # each investor links to its record
        link = page.locator("a.crm-investor", has_text="Acme Capital").first
        expect(link).to_have_attribute("href", record_url(acme_id))
        link.click()
        page.wait_for_url(f"{base}{record_url(acme_id)}")
        expect(page.locator(".crm-record-title")).to_contain_text("Acme Capital", timeout=30_000)
    assert errors == []
