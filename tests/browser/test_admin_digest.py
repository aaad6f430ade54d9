"""The digest section of the admin page in Chromium: turn the digest on, preview today's digest
in its sandboxed frame (a hostile investor name stays text, no script runs), send a test email
and the digest to the SMTP server on loopback, and see them in the last sends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.outbox.smtp import SMTPTransport
from tests.apps.server import free_port, running
from tests.browser.conftest import log_in
from tests.digest.conftest import Inbox, smtp  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
HOSTILE = '<img src=x onerror="window.pwned=1">Evil LP'


def test_admin_previews_and_sends_the_digest(
    page: Page,
    demo_with_admin: Path,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    inbox, transport = smtp
    ctx = crm_lib.open_crm(
        settings=Settings(data_dir=demo_with_admin, password_hashing=profiles.CHEAPEST),
        actor="system:test",
    )
    services.create_investor(ctx, {"name": HOSTILE})  # a new investor: in today's digest
    ctx.close()
    port = free_port()
    env = {
        "CRM_SMTP_HOST": transport.host,
        "CRM_SMTP_PORT": str(transport.port),
        "CRM_SMTP_SECURITY": "none",
        "CRM_JOBS": "off",
    }
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, demo_with_admin, port, extra_env=env) as base:
        log_in(page, base)
        page.goto(f"{base}/admin")
        heading = page.get_by_role("heading", name="Daily digest")
        expect(heading).to_be_visible(timeout=30_000)
        heading.scroll_into_view_if_needed()
        expect(page.get_by_text("The digest is off")).to_be_visible()
        # Bokeh draws a checkbox as <input> and a sibling <div class="bk-label">: no <label>
        toggle = page.locator("input[type=checkbox]")
        expect(toggle).to_have_count(1)
        toggle.check()
        page.get_by_role("button", name="Save digest settings").click()
        expect(page.get_by_text("Digest settings saved.").first).to_be_visible()
        expect(page.get_by_text("The digest is on")).to_be_visible()

        page.get_by_role("button", name="Preview today's digest").click()
        frame = page.frame_locator('iframe[title="Digest preview"]')
        expect(frame.get_by_role("heading", name="Daily digest")).to_be_visible(timeout=30_000)
        expect(frame.get_by_role("heading", name="By investor")).to_be_visible()
        expect(frame.get_by_text(HOSTILE)).to_be_visible()  # the name as text, not markup
        assert page.evaluate("window.pwned") is None

        page.get_by_role("button", name="Send test email").click()
        expect(page.get_by_text("Test email sent to").first).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Send digest now").click()
        expect(page.get_by_text("Digest sent to").first).to_be_visible(timeout=30_000)
        kinds = page.locator('.tabulator-cell[tabulator-field="Kind"]')
        expect(kinds.filter(has_text="manual")).to_have_count(1)
        expect(kinds.filter(has_text="test")).to_have_count(1)
    assert len(inbox.messages) == 2
    test, digest = inbox.messages
    assert test["to"] == ["alice@fund.example"]  # the test email: to the admin who asked
    assert "alice@fund.example" in digest["to"] and len(digest["to"]) > 1  # every admin
