"""The automations page driven through its widgets: a template added (off), its dry run shown
with each change linking to its record, a rule built in the editor as a sentence (conditions
from the view builder's filter tree), toggled on, run, and archived after confirming; members
see the rules but every button is off for them; hostile names stay text."""

from __future__ import annotations

import pytest

import crm_lib
from apps.automations.page import CONDITIONS, AutomationsPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of

HOSTILE = '<img src=x onerror="alert(1)">LP'


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    for name, location in ((HOSTILE, "Oslo"), ("Quiet LP", "Paris")):
        services.create_investor(
            ctx, {"name": name, "location": location, "list_membership": "follow_up"}
        )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def test_an_admin_builds_dry_runs_and_runs_a_rule(runtime: Runtime) -> None:
    page = AutomationsPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.template.value = "graveyard_after_silence"
    page.add_template()
    assert "off: dry-run it" in page.message
    assert list(page.rules_table.value["On"]) == ["off"]
    page.dry_run()
    assert page.message == "A real run would change 2 of the 2 investors matched."
    changes = page.changes.object
    assert "would change" in changes and "/record?id=" in changes
    assert "&lt;img src=x" in changes and "<img src=x" not in changes
    # a new rule from the editor: when no two-way email for 30 days, if Location is Oslo
    page.choice.value = 0
    page.rule_name.value = "Oslo nudge"
    page.trigger_kind.value = "no_two_way_touch"
    page.days.value = 30
    page.scope.value = CONDITIONS
    page._add_condition(page.tree, page.tree_box[0], "location")
    page.tree["conditions"][0].update(operator="eq", value="Oslo")
    page.actions[0]["tag"] = "nudge"
    page.save()
    assert page.message.startswith("Added the rule Oslo nudge"), page.message
    assert "if location eq “Oslo”, then tag it “nudge”" in page.sentence.object
    page.toggle()
    assert page.message == "Oslo nudge is on."
    page.run()
    assert page.message == "Changed 1 of the 1 investors matched."
    with runtime.context() as ctx:
        tags = {r["name"]: r["tags"] for r in services.list_investors(ctx).rows}
    assert tags == {HOSTILE: ["nudge"], "Quiet LP": []}
    page.ask_archive()
    page.confirmation.accept()
    assert page.message == "Archived the rule Oslo nudge."


def test_members_see_rules_but_cannot_change_them(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        services.create_rule_from_template(ctx, "follow_up_no_reply")
    page = AutomationsPage(runtime, session=session_of(runtime, "bob@fund.example"))
    assert list(page.rules_table.value["Rule"]) == [
        "Follow up 14 days after our last email with no reply"
    ]
    assert all(button.disabled for button in page.buttons.values())
    assert page.from_template.disabled
