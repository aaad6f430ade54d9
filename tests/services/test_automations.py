"""Automations on a real SQLite file: rules checked and read as a sentence, admins only to
change them, the three templates, dry run equal to the real run's changes, idempotent
re-evaluation, the per-run cap (over it nothing applied), a person's edit winning over a rule
that planned on an older version, one transaction per investor, and soft delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_lib import services
from crm_lib.automations import engine
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, PermissionDenied, ValidationError


@pytest.fixture
def team(ctx: Context, clock: FixedClock) -> dict:
    alice = services.create_user(ctx, "alice@fund.example", "Alice", "admin")
    bob = services.create_user(ctx, "bob@fund.example", "Bob", "member")
    fund = services.create_fund(ctx, {"name": "Fund III"})
    now = clock.now()
    ids = {}
    # (name, days since last inbound, days since last outbound, list, committed)
    for name, inbound, outbound, listed, committed in (
        ("Silent LP", 400, 300, "follow_up", 0),
        ("Warm LP", 3, 2, "main", 0),
        ("Unanswered LP", 40, 20, "main", 0),
        ("Committed LP", 500, 500, "main", 5e6),
        ("Buried LP", 900, 900, "graveyard", 0),
    ):
        investor = services.create_investor(
            ctx,
            {"name": name, "list_membership": listed, "owner_id": bob["id"], "tags": ["lp"]},
        )
        ctx.db.execute(
            "UPDATE fundraising_investors SET email_last_inbound_at = ?,"
            " email_last_outbound_at = ? WHERE id = ?",
            [
                (now - timedelta(days=inbound)).isoformat(),
                (now - timedelta(days=outbound)).isoformat(),
                investor["id"],
            ],
        )
        if committed:
            services.set_commitment(ctx, investor["id"], fund["id"], committed)
        ids[name] = investor["id"]
    return {"admin": ctx.as_user(alice), "member": ctx.as_user(bob), "bob": bob["id"], **ids}


def _lists(ctx: Context) -> dict[str, str]:
    return {r["name"]: r["list_membership"] for r in services.list_investors(ctx).rows}


def test_a_rule_is_checked_and_reads_as_a_sentence(team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule_from_template(admin, "graveyard_after_silence")
    assert rule["enabled"] is False and rule["time_based"] is True
    assert rule["sentence"] == (
        "When an investor has had no two-way email for 180 days, if (list_membership ne"
        " “graveyard” and total_invested lte “0”), then move it to Graveyard."
    )
    for bad, message in (
        ({"trigger": {"kind": "someday"}}, "Unknown trigger 'someday'"),
        ({"trigger": {"kind": "no_reply", "days": 0}}, "days: a whole number from 1"),
        ({"actions": []}, "one to ten actions"),
        ({"actions": [{"kind": "move_to_list", "list": "heaven"}]}, "Move to which list"),
        ({"actions": [{"kind": "set_field", "field": "Total invested", "value": 1}]}, "computed"),
        ({"actions": [{"kind": "set_field", "field": "Nope", "value": 1}]}, "Nope"),
        ({"conditions": {"field": "status", "operator": "zz"}}, "Unknown filter operator"),
        ({"conditions": {"view_id": 999}}, "999"),
    ):
        values = {
            "name": "Bad",
            "trigger": {"kind": "no_reply", "days": 3},
            "actions": [{"kind": "add_tag", "tag": "x"}],
            **bad,
        }
        with pytest.raises((ValidationError, NotFound), match=message):
            services.create_rule(admin, values)
    with pytest.raises(ValidationError, match="already exists"):
        services.create_rule_from_template(admin, "graveyard_after_silence")
    with pytest.raises(PermissionDenied):
        services.create_rule_from_template(team["member"], "follow_up_no_reply")
    assert [r["name"] for r in services.list_rules(team["member"])] == [rule["name"]]


def test_the_dry_run_shows_exactly_what_the_real_run_changes(ctx: Context, team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule_from_template(admin, "graveyard_after_silence")
    before = _lists(ctx)
    dry = services.dry_run_rule(admin, rule["id"])
    assert _lists(ctx) == before  # nothing written
    assert [(c["name"], c["field"], c["before"], c["after"]) for c in dry["changes"]] == [
        ("Silent LP", "list_membership", "follow_up", "graveyard")
    ]  # Warm is warm, Committed has money in, Buried is there already
    assert dry["message"] == "A real run would change 1 of the 1 investors matched."
    real = services.run_rule(admin, rule["id"])
    assert [(c["name"], c["after"]) for c in real["changes"]] == [
        (c["name"], c["after"]) for c in dry["changes"]
    ]
    assert _lists(ctx)["Silent LP"] == "graveyard"
    history = services.get_investor(ctx, team["Silent LP"])["history"]
    assert history[0]["actor"] == engine.actor_of(rule["id"])  # audited as the rule
    again = services.run_rule(admin, rule["id"])  # idempotent: nothing left to do
    assert (again["matched"], again["changed"], again["changes"]) == (0, 0, [])
    runs = services.list_runs(team["member"], rule_id=rule["id"])
    assert [(r["dry_run"], r["changed"]) for r in runs] == [(False, 0), (False, 1), (True, 1)]


def test_follow_up_tasks_go_to_the_closest_member_once(ctx: Context, team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule_from_template(admin, "follow_up_no_reply")
    services.toggle_rule(admin, rule["id"], expected_version=rule["version"])
    [run] = services.run_time_based_rules(ctx)
    assert [(c["name"], c["after"]) for c in run["changes"]] == [
        ("Silent LP", "Follow up with Silent LP"),  # our email of 300 days ago, unanswered
        ("Unanswered LP", "Follow up with Unanswered LP"),
    ]  # Warm wrote back, Committed's last email was theirs, Buried is in the graveyard
    [task] = services.list_tasks(ctx, investor_id=team["Unanswered LP"])
    assert (task["assignee_id"], task["source"], task["due_on"]) == (
        team["bob"],  # no strongest connection yet: the owner
        "automation",
        "2026-11-25",
    )
    [again] = services.run_time_based_rules(ctx)
    assert again["changed"] == 0  # the open task is there: not a second one
    assert len(services.list_tasks(ctx, investor_id=team["Unanswered LP"])) == 1


def test_over_the_cap_nothing_is_applied_and_the_run_says_why(ctx: Context, team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule(
        admin,
        {
            "name": "Tag everyone",
            "trigger": {"kind": "no_two_way_touch", "days": 1},
            "actions": [{"kind": "add_tag", "tag": "quiet"}],
        },
    )
    refused = engine.run(admin, services.get_rule(admin, rule["id"]), cap=2)
    assert refused["status"] == "refused" and refused["changed"] == 0
    assert "Would change 5 investors, over the cap of 2" in refused["message"]
    assert not any("quiet" in (r["tags"] or []) for r in services.list_investors(ctx).rows)


def test_a_persons_edit_wins_over_a_rule_that_planned_on_an_older_version(
    ctx: Context, team: dict
) -> None:
    admin = team["admin"]
    rule = services.get_rule(
        admin,
        services.create_rule(
            admin,
            {
                "name": "Tag and notify",
                "trigger": {"kind": "no_two_way_touch", "days": 30},
                "conditions": {"field": "name", "operator": "eq", "value": "Silent LP"},
                "actions": [
                    {"kind": "add_tag", "tag": "quiet"},
                    {"kind": "notify", "text": "{investor} has gone quiet"},
                ],
            },
        )["id"],
    )
    investors = engine.matching(admin, rule)
    planned = engine.plan(admin, rule, investors)
    [(investor, changes)] = planned
    person = services.get_investor(ctx, team["Silent LP"])["investor"]
    services.update_field(
        team["member"], team["Silent LP"], "location", "Oslo", expected_version=person["version"]
    )
    with pytest.raises(ConflictError):
        engine._apply_one(admin.as_actor("automation:x"), rule, investor, changes)
    # all or nothing: neither the tag nor the notification was written
    assert "quiet" not in services.get_investor(ctx, team["Silent LP"])["investor"]["tags"]
    assert ctx.db.execute("SELECT count(*) FROM notifications").fetchone()[0] == 0
    run = services.run_rule(admin, rule["id"])  # a fresh run reads the new version
    assert run["changed"] == 1 and run["errors"] == []
    assert "quiet" in services.get_investor(ctx, team["Silent LP"])["investor"]["tags"]
    text = ctx.db.execute("SELECT text FROM notifications").fetchone()[0]
    assert text == "Silent LP has gone quiet"


def test_conditions_can_be_a_saved_view_and_archived_rules_are_gone(
    ctx: Context, team: dict
) -> None:
    admin = team["admin"]
    view = services.create_view(
        admin,
        {"name": "Main", "list_membership": "main", "filters": None},
    )
    rule = services.create_rule(
        admin,
        {
            "name": "Main and silent",
            "trigger": {"kind": "no_two_way_touch", "days": 30},
            "conditions": {"view_id": view["id"]},
            "actions": [{"kind": "add_tag", "tag": "nudge"}],
        },
    )
    assert services.get_rule(admin, rule["id"])["sentence"] == (
        "When an investor has had no two-way email for 30 days, if it is in the view “Main”,"
        " then tag it “nudge”."
    )
    dry = services.dry_run_rule(admin, rule["id"])
    assert sorted(c["name"] for c in dry["changes"]) == ["Committed LP", "Unanswered LP"]
    services.archive_rule(admin, rule["id"], expected_version=rule["version"])
    with pytest.raises(NotFound):
        services.get_rule(admin, rule["id"])
    assert [r["name"] for r in services.list_rules(admin)] == []


def test_the_activity_feed_names_the_rule_that_made_a_change(ctx: Context, team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule_from_template(admin, "graveyard_after_silence")
    services.run_rule(admin, rule["id"])
    [event] = [
        e
        for e in services.activity(ctx, investor_id=team["Silent LP"], limit=20)
        if "graveyard" in e["sentence"].lower()
    ]
    assert event["sentence"].startswith(
        "The automation “Graveyard after 180 days without a two-way touch”"
    )


def test_notices_reach_home_and_the_next_digest_then_are_marked_read(
    ctx: Context, team: dict, clock: FixedClock
) -> None:
    from datetime import UTC

    from crm_lib.digest.build import build_digest
    from crm_lib.digest.render import render_text

    admin, member = team["admin"], team["member"]
    rule = services.create_rule(
        admin,
        {
            "name": "Quiet notice",
            "trigger": {"kind": "no_two_way_touch", "days": 365},
            "conditions": {"field": "list_membership", "operator": "ne", "value": "graveyard"},
            "actions": [{"kind": "notify", "text": "{investor} has been quiet for a year"}],
        },
    )
    services.run_rule(admin, rule["id"])
    notices = services.list_notifications(member)
    assert notices["total"] == 2  # Silent LP (400/300 days) and Committed LP (500 days)
    assert {n["text"] for n in notices["rows"]} == {
        "Silent LP has been quiet for a year",
        "Committed LP has been quiet for a year",
    }
    assert all(n["rule_name"] == "Quiet notice" for n in notices["rows"])
    digest = build_digest(
        ctx, clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1), zone=UTC
    )
    assert "- Silent LP has been quiet for a year (Quiet notice)" in render_text(digest)
    assert digest.figures()["notices"] == 2
    assert services.run_rule(admin, rule["id"])["changed"] == 0  # unread: not again
    assert services.mark_notifications_read(member) == 2
    assert services.list_notifications(member)["total"] == 0


def test_follow_up_drafts_go_to_gmail_drafts_once_and_nothing_is_sent(
    ctx: Context, team: dict
) -> None:
    """The draft action puts the follow-up in the closest member's Gmail drafts
    (users.drafts.create, replayed by HttpMockSequence): never sent, once per last email; a
    Gmail refusal leaves the investor untouched and is reported."""
    import base64
    import json
    from email import message_from_bytes, policy

    from googleapiclient.http import HttpMockSequence

    from crm_lib.outbox.gmail import compose_service

    admin = team["admin"]
    services.add_person(
        ctx, team["Unanswered LP"], {"full_name": "Jane Doe", "email": "jane@unanswered.example"}
    )
    rule = services.get_rule(
        admin,
        services.create_rule(
            admin,
            {
                "name": "Draft follow-ups",
                "trigger": {"kind": "no_reply", "days": 14},
                "conditions": {"field": "name", "operator": "eq", "value": "Unanswered LP"},
                "actions": [
                    {"kind": "add_tag", "tag": "chased"},
                    {
                        "kind": "draft_email",
                        "subject": "Following up, {investor}",
                        "body": "Dear {person},\n\nA quick follow-up on our note.\n",
                        "sender": "owner",
                    },
                ],
            },
        )["id"],
    )
    assert "Gmail drafts (a person sends it)" in rule["sentence"]
    requests: list[tuple[str, str, object]] = []

    class Recording(HttpMockSequence):
        def request(self, uri, method="GET", body=None, **kwargs):  # type: ignore[no-untyped-def]
            requests.append((method, uri, body))
            return super().request(uri, method, body, **kwargs)

    refused = Recording([({"status": "403"}, json.dumps({"error": {"code": 403}}))])
    failed = engine.run(
        admin, rule, drafts=lambda sender: compose_service(None, sender, http=refused)
    )
    assert failed["changed"] == 0 and "gmail.compose" in failed["errors"][0]["error"]
    investor = services.get_investor(ctx, team["Unanswered LP"])["investor"]
    assert "chased" not in investor["tags"]  # all or nothing
    ok = Recording([({"status": "200"}, json.dumps({"id": "r-draft-1", "message": {"id": "m1"}}))])
    done = engine.run(admin, rule, drafts=lambda sender: compose_service(None, sender, http=ok))
    assert done["changed"] == 1 and done["errors"] == []
    method, uri, body = requests[-1]
    assert method == "POST" and uri.split("?")[0].endswith("/gmail/v1/users/me/drafts")
    assert "/send" not in uri  # drafted, never sent
    raw = base64.urlsafe_b64decode(json.loads(body)["message"]["raw"])
    message = message_from_bytes(raw, policy=policy.default)
    assert (message["To"], message["From"], message["Subject"]) == (
        "jane@unanswered.example",
        "bob@fund.example",
        "Following up, Unanswered LP",
    )
    assert message.get_content().startswith("Dear Jane,")
    again = engine.run(admin, rule, drafts=lambda sender: compose_service(None, sender, http=ok))
    assert again["changed"] == 0  # drafted since our last email: not twice


def test_time_based_rules_catch_up_after_downtime(
    ctx: Context, team: dict, clock: FixedClock
) -> None:
    """No evaluation ran for 60 days (the server was off): the first one after catches up on
    every investor that became due meanwhile, from the signals as they stand."""
    admin = team["admin"]
    rule = services.create_rule(
        admin,
        {
            "name": "Quiet for 90 days",
            "trigger": {"kind": "no_two_way_touch", "days": 90},
            "conditions": {"field": "name", "operator": "eq", "value": "Unanswered LP"},
            "actions": [{"kind": "add_tag", "tag": "quiet"}],
            "enabled": True,
        },
    )
    [first] = services.run_time_based_rules(ctx)
    assert first["changed"] == 0  # its last inbound is 40 days old: not yet
    clock.advance(days=60)  # downtime: nothing evaluated
    [after] = services.run_time_based_rules(ctx)
    assert after["changed"] == 1
    assert "quiet" in services.get_investor(ctx, team["Unanswered LP"])["investor"]["tags"]
    assert services.get_rule(admin, rule["id"])["evaluated_at"] == after["finished_at"]


def test_a_run_that_changed_something_is_in_the_activity_feed(ctx: Context, team: dict) -> None:
    admin = team["admin"]
    rule = services.create_rule_from_template(admin, "graveyard_after_silence")
    services.dry_run_rule(admin, rule["id"])  # a dry run is not an event
    services.run_rule(admin, rule["id"])
    services.run_rule(admin, rule["id"])  # nothing left to change: not news either
    [event] = services.activity(ctx, kinds=("automation",))
    assert event["sentence"] == (
        "The automation “Graveyard after 180 days without a two-way touch” changed 1"
        " investor (manual)"
    )
    assert event["summary"].endswith("done, 1 changed")
