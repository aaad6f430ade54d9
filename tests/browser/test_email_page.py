"""The email page in Chromium: a proposal approved on /email (ticked, then the "a" key), and the
email then on the investor's record, in its Emails tab; a thread opened from there."""

from __future__ import annotations

import mailbox
import sys
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.mail.addresses import website_domain
from tests.apps.server import free_port, running
from tests.browser.conftest import ADMIN_EMAIL, log_in, page_errors
from tests.mail import messages as m

pytestmark = pytest.mark.browser


def mail_from_a_colleague(data_dir: Path, tmp_path: Path) -> tuple[int, str]:
    """Alice writes to someone the CRM does not know at a demo investor's domain: a proposal."""
    ctx = crm_lib.open_crm(
        settings=Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST),
        actor="system:test",
    )
    try:
        investor_id, name, website = ctx.db.execute(
            "SELECT id, name, website FROM fundraising_investors WHERE website IS NOT NULL"
            " AND deleted_at IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
        domain = website_domain(website)
        box = mailbox.mbox(tmp_path / "alice.mbox")
        box.add(
            m.plain(
                subject="Quokka data room access",
                sender=f"Alice <{ADMIN_EMAIL}>",
                to=f"Pat Quill <pat.quill@{domain}>",
                body="Pat, the data room is open for you.\n",
                message_id="<quokka@fund.example>",
            ).as_bytes()
        )
        box.flush()
        box.close()
        report = services.import_mailbox(ctx, tmp_path / "alice.mbox", ADMIN_EMAIL)
        assert report.proposed == 1, report
    finally:
        ctx.close()
    return investor_id, name


def test_approve_a_proposal_and_see_the_email_on_the_record(
    page: Page, demo_with_admin: Path, tmp_path: Path
) -> None:
    investor_id, name = mail_from_a_colleague(demo_with_admin, tmp_path)
    errors = page_errors(page)
    port = free_port()
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, demo_with_admin, port) as base:
        log_in(page, base)
        page.locator('a[href="/email"]').first.click()
        page.wait_for_url(f"{base}/email")
        row = page.locator(".tabulator-row", has_text="pat.quill@")
        expect(row).to_be_visible(timeout=30_000)
        expect(row).to_contain_text(name)
        row.locator("input[type=checkbox]").first.click()
        page.locator("body").click(position={"x": 5, "y": 5})  # out of the table, then the key
        page.keyboard.press("a")
        expect(page.get_by_text("Approved 1 proposal").first).to_be_visible(timeout=10_000)
        expect(page.locator(".tabulator-row", has_text="pat.quill@")).to_have_count(0)

        page.goto(f"{base}/record?id={investor_id}")
        page.locator(".bk-tab", has_text="Emails").click()
        thread = page.locator(".crm-thread", has_text="Quokka data room access")
        expect(thread).to_be_visible(timeout=15_000)
        expect(thread).to_contain_text("→ out")
        thread.get_by_role("link", name="Quokka data room access").click()
        page.wait_for_url(f"{base}/email?thread=*")
        expect(page.get_by_text("Pat, the data room is open for you.")).to_be_visible(
            timeout=15_000
        )
    assert errors == []
