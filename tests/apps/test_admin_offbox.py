"""The admin page's off-box copies, driven through its widgets: the newest copy per destination,
a failure when the share is gone, and copying the chosen backup off the box."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from apps.admin.page import AdminPage
from apps.runtime import Runtime
from crm_lib.config import Settings
from tests.apps.conftest import session_of


def test_admin_sees_the_offbox_copies_and_a_failure_when_the_share_is_gone(
    settings_with_team: Settings, tmp_path: Path
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    runtime = Runtime(replace(settings_with_team, offbox_dir=nas), secret_key="k" * 48)
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    section = page.backup_section
    assert f"{nas}: no copy yet" in section.offbox.object

    section.back_up()
    assert page.message.startswith("Backup 1 taken and verified")
    shown = section.offbox.object
    assert "newest copy: backup #1 of " in shown and "1 copy kept" in shown
    # tmp_path is on the data's disk, as an unmounted share's mount point would be
    assert "Needs attention:</b> CRM_OFFBOX_DIR" in shown and "same disk as the data" in shown

    nas.rename(tmp_path / "unmounted")
    section.choice.value = 1
    section.copy_offbox()
    assert page.failed
    assert page.message == (
        f"Off-box copy failed: folder: off-box folder {nas}: does not exist (is the share mounted?)"
    )
    assert "Last failure" in section.offbox.object
    assert "is the share mounted?" in section.offbox.object

    (tmp_path / "unmounted").rename(nas)
    section.copy_offbox()
    assert not page.failed
    assert page.message == "Backup 1 copied off the box and read back intact."


def test_admin_is_told_how_to_turn_offbox_copies_on(settings_with_team: Settings) -> None:
    runtime = Runtime(settings_with_team, secret_key="k" * 48)
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    assert "Off-box copies are not configured" in page.backup_section.offbox.object
    assert "CRM_OFFBOX_S3_URL" in page.backup_section.offbox.object
