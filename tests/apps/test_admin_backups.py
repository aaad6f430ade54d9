"""The admin page's backups, jobs and alerts, and the activity page, driven through their widgets."""

from __future__ import annotations

import pytest

from apps.activity.page import ActivityPage
from apps.admin.page import AdminPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    return Runtime(settings_with_team, secret_key="k" * 48)


def test_admin_backs_up_previews_and_restores_with_a_typed_confirmation(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    section = page.backup_section
    assert "No verified backup ever" in section.alerts.object
    section.back_up()
    assert page.message.startswith("Backup 1 taken and verified")
    assert list(section.backups.value["Kind"]) == ["Manual"]
    assert "No alerts" in section.alerts.object
    with runtime.context() as ctx:
        services.create_investor(ctx, {"name": "Made After The Backup"})
    section.choice.value = 1
    section.show_preview()
    assert "1 investor disappears (e.g. Made After The Backup)" in section.preview.object
    assert section.buttons["restore"].disabled
    section.confirm.value = "2"
    assert section.buttons["restore"].disabled  # the wrong id
    section.confirm.value = "1"
    assert not section.buttons["restore"].disabled
    section.restore()
    assert page.message == "Restored backup 1. The data before it is backup 2."
    with runtime.context() as ctx:
        names = {r["name"] for r in services.list_investors(ctx).rows}
    assert "Made After The Backup" not in names
    assert list(section.backups.value["Kind"]) == ["Before a restore", "Manual"]


def test_admin_sets_the_policy_and_sees_failed_verification(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    section = page.backup_section
    section.policy["daily"].value = 3
    section.save_policy()
    assert page.message == "Retention policy saved." and section.policy_version == 1
    section.back_up()
    backup = next(runtime.settings.backup_dir.glob("*.db"))
    backup.write_bytes(backup.read_bytes()[:100])
    section.choice.value = 1
    section.verify()
    assert page.failed and page.message.startswith("Backup 1: failed")
    section.show_preview()
    assert "failed verification" in section.preview.object
    assert section.buttons["restore"].disabled


def test_activity_page_shows_changes_backups_and_filters(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        acme = services.create_investor(ctx, {"name": "Acme Feed LP"})
        services.create_investor(ctx, {"name": "Other LP"})
        admin = ctx.as_user({"id": 1, "email": "alice@fund.example", "role": "admin"})
        services.create_backup(admin)
    page = ActivityPage(runtime, session=session_of(runtime, "bob@fund.example"))
    kinds = [e["kind"] for e in page.events]
    assert kinds[0] == "backup" and "change" in kinds
    assert page.events[0]["sentence"].startswith("Alice took a backup (backup 1, ")
    page.investor_search.value_input = "Acme Feed"
    assert page.investor.value == acme["id"]
    assert [e["sentence"] for e in page.events] == ["The system added Acme Feed LP to Main"]
    page.investor.value = 0
    page.kinds.value = ["backup"]
    assert [e["actor_name"] for e in page.events] == ["Alice"]
