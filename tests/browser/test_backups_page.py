"""The admin dashboard in Chromium: an admin backs up, previews and restores a backup with the
typed confirmation, and opens the activity feed; a member cannot reach the dashboard."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

import crm_lib
from crm_lib import services
from tests.apps.server import free_port, running
from tests.browser.conftest import log_in
from tests.browser.test_admin_page import add_member

pytestmark = pytest.mark.browser


def test_admin_previews_and_restores_a_backup_and_a_member_cannot(
    page: Page, demo_with_admin: Path
) -> None:
    add_member(demo_with_admin, "bob@fund.example")
    port = free_port()
    with running(
        [sys.executable, "-m", "apps.serve", "--port", str(port)], demo_with_admin, port
    ) as base:
        log_in(page, base)
        page.goto(f"{base}/admin")
        expect(page.get_by_text("No verified backup ever")).to_be_visible(timeout=30_000)
        page.get_by_role("button", name="Back up now").click()
        expect(page.get_by_text("Backup 1 taken and verified").first).to_be_visible(timeout=20_000)
        expect(page.get_by_text("No alerts: backups and jobs are healthy.")).to_be_visible()
        ctx = crm_lib.open_crm(demo_with_admin, actor="system:test")
        services.create_investor(ctx, {"name": "Zz Added After The Backup"})
        ctx.close()
        page.get_by_role("button", name="Preview restore").click()
        preview = page.locator(".crm-restore-preview")
        expect(preview).to_contain_text("1 investor disappears (e.g. Zz Added After The Backup)")
        restore = page.get_by_role("button", name="Restore", exact=True)
        expect(restore).to_be_disabled()
        page.locator(".crm-restore-confirm input").fill("1")
        expect(restore).to_be_enabled()
        restore.click()
        expect(page.get_by_text("Restored backup 1.").first).to_be_visible(timeout=20_000)
        page.goto(f"{base}/activity")
        feed = page.locator(".crm-activity")
        expect(feed).to_contain_text("restored backup 1", timeout=30_000)

        member = page.context.browser.new_context().new_page()
        log_in(member, base, email="bob@fund.example")
        response = member.goto(f"{base}/admin")
        assert response is not None and response.status == 403
        assert member.goto(f"{base}/api/fundraising/backups").status in (401, 403)
        member.goto(f"{base}/activity")
        expect(member.locator(".crm-activity")).to_contain_text("backup", timeout=30_000)
