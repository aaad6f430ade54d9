"""The admin page's pipeline stages: listed in order, added, changed with the version read,
refused with the field named, and archived only after confirming (and never while an open
opportunity is in the stage)."""

from __future__ import annotations

import pytest

import crm_lib
from apps.admin.page import AdminPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    return Runtime(settings_with_team, secret_key="k" * 48)


def test_admins_add_change_and_archive_stages(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    section = page.stages_section
    assert list(section.table.value["Stage"])[:3] == ["Prospect", "Intro", "Meeting"]
    section.name.value = '<img src=x onerror="alert(1)">Term sheet'
    section.probability.value = "60%"
    section.position.value = 5
    section.save()
    assert page.message.startswith("Added the stage") and not page.failed
    stages = [s["name"] for s in section.stages]
    assert stages[4] == '<img src=x onerror="alert(1)">Term sheet'  # a name, kept as typed
    section.probability.value = "150%"
    section.save()
    assert page.failed and "between 0% and 100%" in page.message
    assert "probability" in section.form.flagged  # shown under the field
    section.choice.value = next(s["id"] for s in section.stages if s["name"] == "Intro")
    with runtime.context() as ctx:
        fund = services.create_fund(ctx, {"name": "Fund III"})
        investor = services.create_investor(ctx, {"name": "Acme"})
        services.create_opportunity(
            ctx, investor["id"], fund["id"], {"stage_id": section.choice.value}
        )
    section.ask_archive()
    assert "Archive the stage Intro?" in page.confirmation.question
    page.confirmation.accept()
    assert page.failed and "Intro" in [s["name"] for s in section.stages]  # in use: refused


def test_members_do_not_get_the_section_to_act(runtime: Runtime) -> None:
    ctx = crm_lib.open_crm(settings=runtime.settings, actor="system:test")
    before = len(services.list_stages(ctx))
    ctx.close()
    page = AdminPage(runtime, session=session_of(runtime, "bob@fund.example"))
    page.stages_section.name.value = "Sneaky"
    page.stages_section.probability.value = "10%"
    page.stages_section.save()
    assert page.failed
    ctx = crm_lib.open_crm(settings=runtime.settings, actor="system:test")
    assert len(services.list_stages(ctx)) == before
    ctx.close()
