"""Event-triggered rules on a real SQLite file, run by the listener every context's event bus
has: an investor created, a field changing to a value, starting and stopping to match the
conditions, a commitment recorded (the "move to main" template), a stage change; a rule's own
changes never trigger it, a chain of rules stops at depth 3, and a person's edit through the
service layer triggers exactly as the grid's would."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.automations.events import MAX_DEPTH
from crm_lib.context import Context
from tests.mail.conftest import crm  # noqa: F401 (a fixture)


@pytest.fixture
def fund(ctx: Context) -> int:
    return services.create_fund(ctx, {"name": "Fund III"})["id"]


def _rule(ctx: Context, name: str, trigger: dict, actions: list, conditions=None) -> dict:
    rule = services.create_rule(
        ctx,
        {
            "name": name,
            "trigger": trigger,
            "actions": actions,
            "conditions": conditions,
            "enabled": True,
        },
    )
    return rule


def _investor(ctx: Context, investor_id: int) -> dict:
    return services.get_investor(ctx, investor_id)["investor"]


def test_a_commitment_recorded_moves_the_investor_to_main(ctx: Context, fund: int) -> None:
    rule = services.create_rule_from_template(ctx, "main_on_commitment")
    services.toggle_rule(ctx, rule["id"], expected_version=rule["version"])
    made = services.create_investor(ctx, {"name": "Longshot LP", "list_membership": "longshot"})
    services.set_commitment(ctx, made["id"], fund, 2_000_000)
    assert _investor(ctx, made["id"])["list_membership"] == "main"
    [run] = services.list_runs(ctx, rule_id=rule["id"])
    assert run["trigger_event"].startswith("commitment recorded (by alice@fund.example")
    assert [(c["field"], c["before"], c["after"]) for c in run["changes"]] == [
        ("list_membership", "longshot", "main")
    ]


def test_created_and_field_changed_to_a_value(ctx: Context) -> None:
    _rule(ctx, "Tag new", {"kind": "record_created"}, [{"kind": "add_tag", "tag": "new"}])
    _rule(
        ctx,
        "Meeting task",
        {"kind": "field_changed", "field": "Status", "to": "Meeting"},
        [{"kind": "create_task", "title": "Prepare the meeting with {investor}", "due_in_days": 2}],
    )
    made = services.create_investor(ctx, {"name": "Acme"})
    assert _investor(ctx, made["id"])["tags"] == ["new"]
    current = _investor(ctx, made["id"])
    services.update_field(
        ctx, made["id"], "status", "Prospect", expected_version=current["version"]
    )
    assert services.list_tasks(ctx, investor_id=made["id"]) == []  # not to Meeting
    current = _investor(ctx, made["id"])
    services.update_field(ctx, made["id"], "status", "Meeting", expected_version=current["version"])
    [task] = services.list_tasks(ctx, investor_id=made["id"])
    assert (task["title"], task["due_on"], task["source"]) == (
        "Prepare the meeting with Acme",
        "2026-11-27",
        "automation",
    )


def test_starting_and_stopping_to_match_the_conditions(ctx: Context) -> None:
    big = {"field": "Location", "operator": "eq", "value": "Oslo"}
    _rule(ctx, "Oslo in", {"kind": "starts_matching"}, [{"kind": "add_tag", "tag": "oslo"}], big)
    _rule(ctx, "Oslo out", {"kind": "stops_matching"}, [{"kind": "remove_tag", "tag": "oslo"}], big)
    made = services.create_investor(ctx, {"name": "Nordic LP", "location": "Bergen"})
    assert _investor(ctx, made["id"])["tags"] == []
    current = _investor(ctx, made["id"])
    services.update_field(ctx, made["id"], "location", "Oslo", expected_version=current["version"])
    assert _investor(ctx, made["id"])["tags"] == ["oslo"]
    current = _investor(ctx, made["id"])
    services.update_field(ctx, made["id"], "notes", "met", expected_version=current["version"])
    assert len(services.list_runs(ctx, dry_run=False)) == 1  # still matching: nothing new
    current = _investor(ctx, made["id"])
    services.update_field(ctx, made["id"], "location", "Paris", expected_version=current["version"])
    assert _investor(ctx, made["id"])["tags"] == []


def test_a_rules_own_change_does_not_trigger_it_and_chains_stop_at_depth_3(ctx: Context) -> None:
    # each rule sets Location to its own value whenever Location changes: A -> B -> C -> A ...
    for name, value in (("A", "one"), ("B", "two"), ("C", "three"), ("D", "four")):
        _rule(
            ctx,
            name,
            {"kind": "field_changed", "field": "Location"},
            [{"kind": "set_field", "field": "Location", "value": value}],
        )
    made = services.create_investor(ctx, {"name": "Loop LP"})
    current = _investor(ctx, made["id"])
    services.update_field(ctx, made["id"], "location", "start", expected_version=current["version"])
    runs = services.list_runs(ctx, dry_run=False, limit=100)
    # bounded, not endless: 4 rules run for the person's edit, each change of theirs wakes the
    # 3 others, and so on for at most MAX_DEPTH levels
    assert MAX_DEPTH == 3 and 0 < len(runs) <= 4 + 4 * 3 + 4 * 3 * 3
    assert not any(r["trigger_event"].endswith(f"(by automation:{r['rule_id']})") for r in runs)
    assert all(r["status"] in ("done", "refused") for r in runs)


def test_a_stage_change_to_a_named_stage(ctx: Context, fund: int) -> None:
    _rule(
        ctx,
        "Diligence notify",
        {"kind": "stage_changed", "to": "Diligence"},
        [{"kind": "notify", "text": "{investor} is in diligence"}],
    )
    made = services.create_investor(ctx, {"name": "Deep LP"})
    opportunity = services.create_opportunity(ctx, made["id"], fund)
    assert ctx.db.execute("SELECT count(*) FROM notifications").fetchone()[0] == 0
    stages = {s["name"]: s["id"] for s in services.list_stages(ctx)}
    services.move_opportunity(
        ctx, opportunity["id"], stages["Diligence"], expected_version=opportunity["version"]
    )
    texts = [r[0] for r in ctx.db.execute("SELECT text FROM notifications")]
    assert texts == ["Deep LP is in diligence"]


def test_an_email_from_an_investors_person_triggers_its_rule(
    ctx: Context,
    crm: dict,  # noqa: F811 (the fixture imported above)
) -> None:
    """Mail imported into a team mailbox (linked to Acme by Jane's address) wakes the rule;
    our own outbound mail does not."""
    from tests.digest.conftest import ALICE, day, deliver, mail

    _rule(
        ctx,
        "Reply task",
        {"kind": "email_received"},
        [{"kind": "create_task", "title": "Answer {investor}", "due_in_days": 1}],
    )
    deliver(ctx, ALICE, mail("Fund III", ALICE, "jane@acme.example", day(24, 9)))
    assert services.list_tasks(ctx, investor_id=crm["acme"]) == []  # ours: not "received"
    deliver(ctx, ALICE, mail("Re: Fund III", "jane@acme.example", ALICE, day(24, 11)))
    [task] = services.list_tasks(ctx, investor_id=crm["acme"])
    assert (task["title"], task["source"]) == ("Answer Acme Capital", "automation")
