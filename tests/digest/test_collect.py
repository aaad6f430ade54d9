"""What the digest collects for a window: by team member, by investor (one entry per message
however many mailboxes hold it), the CRM's changes, and the rules every mail reader keeps
(archived investors, private threads, sharing levels, internal mail)."""

from __future__ import annotations

from datetime import timedelta

from crm_lib import services
from crm_lib.context import Context
from crm_lib.digest.collect import (
    collect_crm_activity,
    collect_investor_activity,
    collect_user_activity,
)
from tests.digest.conftest import ALICE, BOB, day, deliver, mail

SINCE, UNTIL = day(24, 0), day(25, 0)


def _by_name(members: list) -> dict:
    return {m.email: m for m in members}


def test_a_message_two_mailboxes_hold_is_one_entry_by_investor_and_received_by_both(
    ctx: Context, crm: dict
) -> None:
    cc = mail(
        "Fund III allocation",
        "Jane Doe <jane@acme.example>",
        f"Alice <{ALICE}>",
        day(24, 9),
        Cc=f"Bob <{BOB}>",
    )
    deliver(ctx, ALICE, cc)
    deliver(ctx, BOB, cc)
    reply = mail(
        "Re: Fund III allocation",
        f"Alice <{ALICE}>",
        "jane@acme.example",
        day(24, 11),
        In_Reply_To=cc["Message-ID"],
        References=cc["Message-ID"],
    )
    deliver(ctx, ALICE, reply)

    investors = collect_investor_activity(ctx, SINCE, UNTIL)
    assert [(i.name, i.inbound, i.outbound) for i in investors] == [("Acme Capital", 1, 1)]
    assert investors[0].people == ["Jane Doe"]
    assert investors[0].subjects == ["Fund III allocation", "Re: Fund III allocation"]
    assert set(investors[0].team_members) == {"Alice", "Bob"}

    members = _by_name(collect_user_activity(ctx, SINCE, UNTIL))
    assert [e.subject for e in members[ALICE].sent] == ["Re: Fund III allocation"]
    assert [e.subject for e in members[ALICE].received] == ["Fund III allocation"]
    assert [e.subject for e in members[BOB].received] == ["Fund III allocation"]
    assert members[BOB].sent == []
    assert members[ALICE].investors == ["Acme Capital"]
    assert members[ALICE].threads[0]["messages"] == 2  # one thread, two messages


def test_the_window_is_half_open_and_other_days_stay_out(ctx: Context, crm: dict) -> None:
    for subject in ("before", "inside"):
        when = day(23, 23) if subject == "before" else day(24, 0)
        deliver(ctx, ALICE, mail(subject, "jane@acme.example", ALICE, when))
    deliver(ctx, ALICE, mail("at the end", "jane@acme.example", ALICE, UNTIL))
    investors = collect_investor_activity(ctx, SINCE, UNTIL)
    assert [e.subject for e in investors[0].emails] == ["inside"]


def test_archived_investors_private_threads_and_internal_mail_stay_out(
    ctx: Context, crm: dict
) -> None:
    deliver(ctx, ALICE, mail("Gone", "Zed <zed@gone.example>", ALICE, day(24, 9)))
    deliver(ctx, ALICE, mail("Lunch?", f"Bob <{BOB}>", ALICE, day(24, 10)))
    secret = mail("Side letter", "Tom Smith <tomsmith@gmail.com>", ALICE, day(24, 12))
    deliver(ctx, ALICE, secret)
    thread = collect_investor_activity(ctx, SINCE, UNTIL)[0].emails[0].thread_id
    services.set_thread_private(ctx.as_user(crm["alice"]), thread, True)

    assert collect_investor_activity(ctx, SINCE, UNTIL) == []
    assert all(m.quiet for m in collect_user_activity(ctx, SINCE, UNTIL))


def test_a_mailbox_shared_as_metadata_gives_neither_subject_nor_text(
    ctx: Context, crm: dict
) -> None:
    deliver(
        ctx, BOB, mail("Confidential terms", "jane@acme.example", BOB, day(24, 9), body="Terms")
    )
    deliver(ctx, ALICE, mail("Open", "jane@acme.example", ALICE, day(24, 10), body="Hello"))
    account = services.ensure_account(ctx, BOB)
    services.set_sharing(ctx, account["id"], "metadata", expected_version=account["version"])

    emails = {e.id: e for e in collect_investor_activity(ctx, SINCE, UNTIL)[0].emails}
    shown = sorted((e.subject, e.text) for e in emails.values())
    assert shown == [("", ""), ("Open", "Hello")]
    account = services.ensure_account(ctx, BOB)
    services.set_sharing(ctx, account["id"], "subject", expected_version=account["version"])
    shown = sorted(
        (e.subject, e.text) for e in collect_investor_activity(ctx, SINCE, UNTIL)[0].emails
    )
    assert shown == [("Confidential terms", ""), ("Open", "Hello")]


def test_crm_activity_counts_edits_by_person_and_lists_commitments(
    ctx: Context, crm: dict, clock
) -> None:
    clock.advance(days=1)  # into a window of its own: the fixture's own writes stay before it
    since = clock.now()
    alice = ctx.as_user(crm["alice"])
    fund = services.create_fund(ctx, {"name": "Fund III", "vintage_year": 2026})
    investor = services.get_investor(alice, crm["acme"])["investor"]
    services.update_investor(
        alice, crm["acme"], {"location": "Boston"}, expected_version=investor["version"]
    )
    commitment = services.set_commitment(alice, crm["bloom"], fund["id"], 5_000_000)
    services.set_commitment(
        alice, crm["bloom"], fund["id"], 6_000_000, expected_version=commitment["version"]
    )
    new = services.create_investor(alice, {"name": "Cobalt Endowment"})
    clock.advance(minutes=1)

    activity = collect_crm_activity(ctx, since, clock.now())
    alice_edits = next(p for p in activity.edits if p["name"] == "Alice")
    # Bloom's computed total moved with its commitment: that is not an edit of Bloom
    assert alice_edits["records"] == {"commitments": 1, "funds": 1, "investors": 2}
    assert alice_edits["records_text"] == "1 commitment, 1 fund, 2 investors"
    assert alice_edits["fields"][0]["label"] == "Location"
    assert activity.new_investors == [{"id": new["id"], "name": "Cobalt Endowment", "by": "Alice"}]
    [change] = activity.commitments
    assert (change["investor"], change["fund"], change["amount"], change["new"]) == (
        "Bloom Pension",
        "Fund III",
        6_000_000,
        True,
    )
    # nothing before the window counts
    earlier = collect_crm_activity(ctx, since - timedelta(days=2), since - timedelta(days=1))
    assert earlier.empty
