"""notebooks/automations.ipynb through the jobs runner, as the scheduler runs it: off until a
time-based rule is on, then each enabled time-based rule evaluated (its run recorded with the
rule as the actor of its changes) and the counts kept on the job's run; a second evaluation
finds nothing left to do, and a missed hour needs no replay (the signals as they stand now)."""

from __future__ import annotations

import json
from datetime import timedelta

from crm_lib import jobs, services
from crm_lib.clock import FixedClock
from crm_lib.context import Context


def test_the_scheduler_evaluates_the_time_based_rules_that_are_on(
    ctx: Context, clock: FixedClock
) -> None:
    old = (clock.now() - timedelta(days=400)).isoformat()
    for name in ("Quiet LP", "Quieter LP"):
        investor = services.create_investor(ctx, {"name": name, "list_membership": "follow_up"})
        ctx.db.execute(
            "UPDATE fundraising_investors SET email_last_inbound_at = ?,"
            " email_last_outbound_at = ? WHERE id = ?",
            [old, old, investor["id"]],
        )
    spec = jobs.JOBS["automations"]
    assert not spec.active(ctx)  # no rule yet
    rule = services.create_rule_from_template(ctx, "graveyard_after_silence")
    event_rule = services.create_rule_from_template(ctx, "main_on_commitment")
    services.toggle_rule(ctx, event_rule["id"], expected_version=event_rule["version"])
    assert not spec.active(ctx)  # an event rule is not the scheduler's
    services.toggle_rule(ctx, rule["id"], expected_version=rule["version"])
    assert spec.active(ctx)
    run = jobs.run_job(ctx, "automations")
    assert run["status"] == "ok", run["error"]
    counts = json.loads(run["summary"]) if isinstance(run["summary"], str) else run["summary"]
    assert (counts["rules"], counts["changed"], counts["refused"]) == (1, 2, [])
    lists = {r["name"]: r["list_membership"] for r in services.list_investors(ctx).rows}
    assert lists == {"Quiet LP": "graveyard", "Quieter LP": "graveyard"}
    [logged] = services.list_runs(ctx, rule_id=rule["id"])
    assert (logged["trigger_event"], logged["changed"]) == ("schedule", 2)
    assert services.get_rule(ctx, rule["id"])["evaluated_at"] is not None
    again = jobs.run_job(ctx, "automations")
    second = json.loads(again["summary"]) if isinstance(again["summary"], str) else again["summary"]
    assert second["changed"] == 0
