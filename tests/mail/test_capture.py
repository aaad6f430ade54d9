"""Email capture end to end on a real SQLite file: a mailbox file read, noise skipped, each
message stored once, linked to the person it is with, proposed when only the domain matches,
decisions remembered, and what each reader may see of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm_lib import services
from crm_lib.analytics import connect
from crm_lib.cli import main
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import NotFound, PermissionDenied, ValidationError
from crm_lib.mail.addresses import canonical
from tests.mail import messages as m
from tests.mail.conftest import ALICE, BOB, day, write_mbox


def alice_corpus() -> list:
    first = m.plain(
        subject="Fund III data room",
        sender="Alice <alice@fund.example>",
        to="Jane Doe <jane@acme.example>",
        body="Jane, here is the data room link.\n",
        when=day(2),
        message_id="<intro@fund.example>",
    )
    reply = m.plain(
        subject="Re: Fund III data room",
        sender="Jane Doe <jane@acme.example>",
        to="alice@fund.example",
        body="Thanks, it works.\n\nOn Mon, Alice wrote:\n> Jane, here is the data room link.\n",
        when=day(3),
        message_id="<reply@acme.example>",
        In_Reply_To="<intro@fund.example>",
        References="<intro@fund.example>",
    )
    tom = m.plain(
        subject="Capital call question",
        sender="Tom <T.om.Smith+crm@googlemail.com>",
        to="alice@fund.example",
        body="When is the first call?\n",
        when=day(4),
        message_id="<tom@gmail.com>",
    )
    cold = m.plain(
        subject="Introduction",
        sender="Carol Jones <carol@acme.example>",
        to="alice@fund.example",
        body="I am Jane's colleague.\n",
        when=day(5),
        message_id="<carol@acme.example>",
    )
    outbound_new = m.plain(
        subject="Meeting next week",
        sender="alice@fund.example",
        to="Dave Lee <dave@bloom.example>",
        body="Are you free on Tuesday?\n",
        when=day(6),
        message_id="<dave@fund.example>",
    )
    internal = m.plain(
        subject="Notes",
        sender=ALICE,
        to=BOB,
        body="Internal.\n",
        when=day(7),
        message_id="<internal@fund.example>",
    )
    newsletter = m.plain(
        subject="Weekly digest",
        sender="news@vcnews.example",
        to=ALICE,
        when=day(7),
        List_Unsubscribe="<mailto:unsubscribe@vcnews.example>",
        message_id="<news@vcnews.example>",
    )
    noreply = m.plain(
        subject="Your receipt",
        sender="noreply@shop.example",
        to=ALICE,
        when=day(7),
        message_id="<receipt@shop.example>",
    )
    stranger = m.plain(
        subject="Hello",
        sender="someone@gmail.com",
        to=ALICE,
        when=day(8),
        message_id="<someone@gmail.com>",
    )
    undated = m.plain(
        subject="No date",
        sender="jane@acme.example",
        to=ALICE,
        when=None,
        message_id="<undated@acme.example>",
    )
    archived = m.plain(
        subject="Still here",
        sender="zed@gone.example",
        to=ALICE,
        when=day(9),
        message_id="<zed@gone.example>",
    )
    return [
        first,
        reply,
        tom,
        cold,
        outbound_new,
        internal,
        newsletter,
        noreply,
        stranger,
        undated,
        archived,
        first,
    ]  # the last one again: stored once


def test_an_mbox_is_read_noise_skipped_and_each_message_stored_once_and_linked(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    path = write_mbox(tmp_path / "alice.mbox", alice_corpus())
    report = services.import_mailbox(ctx, path, ALICE)
    assert report.read == 12 and report.failed == []
    assert report.skipped == {
        "internal only (no one outside the fund)": 1,
        "bulk mail (mailing list headers)": 1,
        "from a role or no-reply address (noreply@shop.example)": 1,
    }
    assert report.stored == 8 and report.duplicates == 1
    assert report.linked == 5  # first, reply, tom, undated, archived (Zed is still Gone's)
    assert report.proposed == 2  # carol (Acme's website domain), dave (Bloom's website domain)
    timeline = services.investor_emails(ctx, crm["acme"])
    assert [t["subject"] for t in timeline["threads"]] == ["Fund III data room", "No date"]
    thread = timeline["threads"][0]
    assert [(e["direction"], e["person"]) for e in thread["messages"]] == [
        ("inbound", "Jane Doe"),
        ("outbound", "Jane Doe"),
    ]
    assert thread["messages"][0]["snippet"] == "Thanks, it works."  # the new text of the reply
    bloom = services.investor_emails(ctx, crm["bloom"])  # dots, +tag and googlemail folded
    assert [t["subject"] for t in bloom["threads"]] == ["Capital call question"]
    with pytest.raises(NotFound):
        services.investor_emails(ctx, crm["gone"])  # archived: on no read path

    again = services.import_mailbox(ctx, path, ALICE)  # idempotent
    assert again.stored == 0 and again.duplicates == 9
    accounts = services.email_accounts(ctx)
    assert [(a["email"], a["messages_stored"], a["user_id"]) for a in accounts] == [
        (ALICE, 8, crm["alice"]["id"])
    ]


def test_a_message_in_two_mailboxes_is_stored_once_and_held_by_both(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    corpus = alice_corpus()
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", corpus[:2]), ALICE)
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "b.mbox", corpus[:2]), BOB)
    assert report.stored == 0 and report.duplicates == 2
    held = ctx.db.execute(
        "SELECT count(*), count(DISTINCT email_id) FROM email_account_messages"
    ).fetchone()
    assert tuple(held) == (4, 2)


def test_a_message_to_two_people_of_one_investor_is_linked_once_through_the_first(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    colleague = services.add_person(
        ctx, crm["acme"], {"full_name": "Raj Patel", "email": "raj@acme.example"}
    )
    both = m.plain(
        subject="Fund III side letter",
        sender="Alice <alice@fund.example>",
        to="Raj Patel <raj@acme.example>, Jane Doe <jane@acme.example>",
        when=day(8),
        message_id="<both@fund.example>",
    )
    later = m.plain(subject="Later", sender="Jane Doe <jane@acme.example>", to=ALICE, when=day(9))
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "b.mbox", [both, later]), ALICE)
    assert report.stored == 2 and report.linked == 2 and report.failed == []
    links = ctx.db.execute(
        "SELECT e.subject, l.person_id FROM email_investor_links l JOIN emails e"
        " ON e.id = l.email_id WHERE l.investor_id = ? ORDER BY e.id",
        [crm["acme"]],
    ).fetchall()
    assert [tuple(r) for r in links] == [
        ("Fund III side letter", colleague["id"]),
        ("Later", crm["jane"]),
    ]


def test_a_dry_run_reports_and_writes_nothing(ctx: Context, crm: dict, tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "alice.mbox", alice_corpus())
    report = services.import_mailbox(ctx, path, ALICE, dry_run=True)
    assert report.stored == 8 and report.linked == 5 and report.dry_run
    for table in ("emails", "email_threads", "email_accounts", "email_investor_links"):
        assert ctx.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_proposals_are_decided_and_decisions_remembered(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()), ALICE)
    pending = services.list_proposals(ctx)["proposals"]
    by_address = {p["address"]: p for p in pending}
    assert set(by_address) == {"carol@acme.example", "dave@bloom.example"}
    carol, dave = by_address["carol@acme.example"], by_address["dave@bloom.example"]
    assert carol["investor_name"] == "Acme Capital" and carol["confidence"] == 0.8
    assert "acme.example is the domain of Acme Capital's website" in carol["evidence"]
    assert not carol["may_add_person"]  # cold inbound: never a new person
    assert dave["may_add_person"]  # the team wrote to Dave

    done = services.decide_proposals(ctx, [dave["id"]], approve=True, add_person=True)
    assert done == {"approved": 1, "rejected": 0, "people_added": 1}
    people = services.list_people(ctx, crm["bloom"])
    assert "Dave Lee" in {p["full_name"] for p in people}
    bloom = services.investor_emails(ctx, crm["bloom"])
    assert "Meeting next week" in [t["subject"] for t in bloom["threads"]]

    done = services.decide_proposals(ctx, [carol["id"]], approve=False)
    assert done["rejected"] == 1
    assert services.list_proposals(ctx)["total"] == 0
    later = m.plain(
        subject="Following up",
        sender="erin@acme.example",
        to=ALICE,
        when=day(20),
        message_id="<erin@acme.example>",
    )
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "b.mbox", [later]), ALICE)
    assert report.stored == 1 and report.proposed == 0  # acme.example was rejected for Acme

    # Dave is a person now: his next message links on its own
    next_one = m.plain(
        subject="Tuesday works",
        sender="dave@bloom.example",
        to=ALICE,
        when=day(21),
        message_id="<dave2@bloom.example>",
    )
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "c.mbox", [next_one]), ALICE)
    assert report.linked == 1 and report.proposed == 0


def test_an_alias_links_past_mail(ctx: Context, crm: dict, tmp_path: Path) -> None:
    stranger = m.plain(
        subject="From my other address",
        sender="jd@jane-home.example",
        to=ALICE,
        when=day(10),
        message_id="<home@jane-home.example>",
    )
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", [stranger]), ALICE)
    assert services.investor_emails(ctx, crm["acme"])["emails"] == 0
    alias = services.add_email_alias(ctx, crm["jane"], "JD@jane-home.example")
    assert alias["linked"] == 1 and alias["address"] == "jd@jane-home.example"
    assert services.investor_emails(ctx, crm["acme"])["threads"][0]["subject"] == (
        "From my other address"
    )
    with pytest.raises(ValidationError, match="already an address"):
        services.add_email_alias(ctx, crm["tom"], "jd@jane-home.example")


def test_sharing_levels_and_private_threads_apply_when_mail_is_read(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()[:2]), ALICE)
    alice = ctx.as_user(crm["alice"])
    bob = ctx.as_user(crm["bob"])
    account = services.email_accounts(ctx)[0]
    with pytest.raises(PermissionDenied, match="owner or an admin"):
        services.set_sharing(bob, account["id"], "metadata", expected_version=account["version"])
    services.set_sharing(alice, account["id"], "subject", expected_version=account["version"])
    seen_by_bob = services.investor_emails(bob, crm["acme"])["threads"][0]["messages"][0]
    assert seen_by_bob["subject"] == "Re: Fund III data room" and seen_by_bob["snippet"] == ""
    assert seen_by_bob["visibility"] == "subject"
    seen_by_alice = services.investor_emails(alice, crm["acme"])["threads"][0]["messages"][0]
    assert seen_by_alice["snippet"] == "Thanks, it works."  # the owner sees her own mail

    account = services.email_accounts(ctx)[0]
    services.set_sharing(ctx, account["id"], "metadata", expected_version=account["version"])
    thread = services.investor_emails(bob, crm["acme"])["threads"][0]
    assert thread["subject"] == "" and thread["messages"][0]["from_address"] == "jane@acme.example"

    thread_id = thread["thread_id"]
    with pytest.raises(NotFound):
        services.set_thread_private(bob, thread_id, True)  # not in Bob's mailbox
    services.set_thread_private(alice, thread_id, True)
    assert services.investor_emails(bob, crm["acme"])["threads"] == []
    assert len(services.investor_emails(alice, crm["acme"])["threads"]) == 1
    with pytest.raises(NotFound):
        services.email_thread(bob, thread_id)
    assert [e["subject"] for e in services.email_thread(alice, thread_id)["messages"]] == [
        "Fund III data room",
        "Re: Fund III data room",
    ]


def test_members_read_and_decide_but_only_admins_import(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    path = write_mbox(tmp_path / "a.mbox", alice_corpus())
    bob = ctx.as_user(crm["bob"])
    with pytest.raises(PermissionDenied):
        services.import_mailbox(bob, path, BOB)
    services.import_mailbox(ctx.as_user(crm["alice"]), path, ALICE)
    proposal = services.list_proposals(bob)["proposals"][0]
    assert services.decide_proposals(bob, [proposal["id"]], approve=True)["approved"] == 1
    with pytest.raises(PermissionDenied):
        services.set_internal_domains(bob, ["fund.example"])


def test_internal_domains_are_never_counterparties(ctx: Context, crm: dict, tmp_path: Path) -> None:
    services.set_internal_domains(ctx, ["@Fund-Partners.example"])
    partner = m.plain(
        subject="Co-invest",
        sender="pat@fund-partners.example",
        to=ALICE,
        when=day(11),
        message_id="<pat@fund-partners.example>",
    )
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", [partner]), ALICE)
    assert report.skipped == {"internal only (no one outside the fund)": 1}
    with pytest.raises(ValidationError, match="not a domain"):
        services.set_internal_domains(ctx, ["not a domain"])


def test_unreadable_messages_are_recorded_and_the_rest_goes_in(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.mbox"
    good = m.plain(sender="jane@acme.example", to=ALICE, message_id="<ok@acme.example>").as_bytes()
    path.write_bytes(b"From x\n\n\nFrom y\n" + good + b"\n")
    report = services.import_mailbox(ctx, path, ALICE)
    assert report.stored == 1 and len(report.failed) == 1
    assert report.failed[0][0] == "mixed.mbox #1"
    stored = ctx.db.execute("SELECT source_ref, reason FROM email_failures").fetchall()
    assert [tuple(r) for r in stored] == [tuple(report.failed[0])]


def test_a_file_that_is_not_a_mailbox_is_refused_before_anything_is_written(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")
    with pytest.raises(ValidationError, match="neither an mbox"):
        services.import_mailbox(ctx, path, ALICE)
    assert ctx.db.execute("SELECT count(*) FROM email_accounts").fetchone()[0] == 0


def test_a_folder_of_eml_files_imports_like_an_mbox(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    folder = tmp_path / "eml"
    (folder / "sub").mkdir(parents=True)
    corpus = alice_corpus()
    (folder / "1.eml").write_bytes(corpus[0].as_bytes())
    (folder / "sub" / "2.eml").write_bytes(corpus[1].as_bytes())
    report = services.import_mailbox(ctx, folder, ALICE)
    assert report.stored == 2 and report.linked == 2
    refs = [r[0] for r in ctx.db.execute("SELECT source_ref FROM email_account_messages")]
    assert sorted(refs) == ["1.eml", "sub/2.eml"]


def test_duckdb_views_show_live_mail_and_links(ctx: Context, crm: dict, tmp_path: Path) -> None:
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()), ALICE)
    with connect(settings=ctx.settings) as duck:
        emails = duck.execute(
            "SELECT message_id, direction, team_member FROM emails ORDER BY sent_at NULLS LAST"
        ).fetchall()
        links = duck.execute(
            "SELECT status, count(*) FROM email_links GROUP BY status ORDER BY status"
        ).fetchall()
    assert emails[0] == ("intro@fund.example", "outbound", ALICE)
    assert "zed@gone.example" not in {e[0] for e in emails}  # an archived investor's mail
    assert links == [("linked", 4), ("proposed", 2)]


def test_canonical_addresses_match_as_the_matcher_folds_them() -> None:
    assert canonical("T.om.Smith+crm@googlemail.com") == "tomsmith@gmail.com"


def test_the_cli_imports_prints_counts_and_exits_by_outcome(
    ctx: Context, crm: dict, settings: Settings, tmp_path: Path
) -> None:
    path = write_mbox(tmp_path / "alice.mbox", alice_corpus())
    runner = CliRunner()
    args = ["--data-dir", str(settings.data_dir), "email", "import-mbox", str(path)]
    result = runner.invoke(main, [*args, "--account", ALICE, "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run, nothing written: would have read 12 messages: 8")
    result = runner.invoke(main, [*args, "--account", ALICE])
    assert result.exit_code == 0 and "1 already stored (duplicates)" in result.output
    assert "skipped 1: bulk mail (mailing list headers)" in result.output
    bad = tmp_path / "bad.mbox"
    bad.write_bytes(b"From x\n\n\nFrom y\n\n\n")
    result = runner.invoke(
        main,
        [
            "--data-dir",
            str(settings.data_dir),
            "email",
            "import-mbox",
            str(bad),
            "--account",
            ALICE,
        ],
    )
    assert result.exit_code == 2, result.output
    result = runner.invoke(main, ["--data-dir", str(settings.data_dir), "email", "proposals"])
    assert result.exit_code == 0 and "2 pending." in result.output
    proposal_id = result.output.split()[0]
    result = runner.invoke(
        main, ["--data-dir", str(settings.data_dir), "email", "proposals", "--reject", proposal_id]
    )
    assert result.exit_code == 0 and "Rejected 1" in result.output
    result = runner.invoke(main, ["--data-dir", str(settings.data_dir), "email", "status"])
    assert ALICE in result.output and "1 proposals waiting" in result.output


def test_a_blocklist_stops_capture_and_hides_past_mail(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()), ALICE)
    assert services.investor_emails(ctx, crm["acme"])["emails"] == 3
    done = services.set_email_blocklist(ctx, ["  Jane@ACME.example ", "@bloom.example", ""])
    assert done == {"blocked": 2, "hidden": 4}  # Jane's three, and Alice's mail to Dave
    assert services.email_blocklist(ctx) == ["@bloom.example", "jane@acme.example"]
    assert services.investor_emails(ctx, crm["acme"])["emails"] == 0
    later = m.plain(sender="jane@acme.example", to=ALICE, message_id="<late@acme.example>")
    report = services.import_mailbox(ctx, write_mbox(tmp_path / "b.mbox", [later]), ALICE)
    assert report.skipped == {"blocklisted address (jane@acme.example)": 1}
    services.set_email_blocklist(ctx, ["@bloom.example"])  # Jane unblocked: new mail comes in
    assert services.email_blocklist(ctx) == ["@bloom.example"]
    with pytest.raises(ValidationError, match="neither an address nor an @domain"):
        services.set_email_blocklist(ctx, ["not valid"])
    with pytest.raises(PermissionDenied):
        services.set_email_blocklist(ctx.as_user(crm["bob"]), [])


def test_relationship_signals_follow_linked_mail(ctx: Context, crm: dict, tmp_path: Path) -> None:
    """The clock reads 2026-11-25 09:00 UTC (tests/conftest.py); Jane's thread is two-way."""
    bloom = services.get_investor(ctx, crm["bloom"])["investor"]
    services.update_field(
        ctx, crm["bloom"], "last_contacted_at", "2026-11-20", expected_version=bloom["version"]
    )
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()), ALICE)
    acme = services.get_investor(ctx, crm["acme"])["investor"]
    assert acme["email_last_inbound_at"].startswith("2026-11-03T10:00")
    assert acme["email_last_outbound_at"].startswith("2026-11-02T10:00")
    assert (acme["email_touches_30d"], acme["email_touches_90d"]) == (2, 2)  # undated: no
    assert acme["last_contacted_at"] == "2026-11-03"  # the newest message of a two-way thread
    assert acme["email_strength"] == "Weak" and acme["email_connection_id"] == crm["alice"]["id"]
    assert acme["version"] == 1  # derived values: no version bump, no conflict for editors
    bloom = services.get_investor(ctx, crm["bloom"])["investor"]
    assert (
        bloom["email_last_inbound_at"].startswith("2026-11-04")
        and not bloom["email_last_outbound_at"]
    )
    assert bloom["last_contacted_at"] == "2026-11-20"  # typed by hand, newer: kept
    assert bloom["email_strength"] == "Very weak"
    fields = {f.key: f for f in services.list_fields(ctx)}
    assert not fields["email_strength"].is_editable and fields["email_touches_30d"].is_builtin
    with pytest.raises(ValidationError):
        services.update_field(
            ctx, crm["acme"], "email_touches_30d", 99, expected_version=acme["version"]
        )
    services.set_email_blocklist(ctx, ["jane@acme.example"])  # her mail leaves: signals follow
    acme = services.get_investor(ctx, crm["acme"])["investor"]
    assert acme["email_touches_30d"] == 0 and acme["email_strength"] is None


def test_the_activity_feed_tells_email_as_the_reader_may_see_it(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", alice_corpus()[:3]), ALICE)
    events = services.activity(ctx, kinds=("email",))
    assert [e["sentence"] for e in events] == [
        "Alice received an email from Tom Smith of Bloom Pension: Capital call question",
        "Alice received an email from Jane Doe of Acme Capital: Re: Fund III data room",
        "Alice emailed Jane Doe of Acme Capital: Fund III data room",
    ]
    first = events[-1]
    assert first["investor_id"] == crm["acme"] and first["detail"]["to"] == ["jane@acme.example"]
    assert first["detail"]["snippet"].startswith("Jane, here is the data room link.")
    only_acme = services.activity(ctx, investor_id=crm["acme"], kinds=("email",))
    assert len(only_acme) == 2
    page = services.activity(ctx, kinds=("email",), limit=1)
    assert len(services.activity(ctx, kinds=("email",), before=page[0]["cursor"])) == 2
    account = services.email_accounts(ctx)[0]
    services.set_sharing(ctx, account["id"], "metadata", expected_version=account["version"])
    seen_by_bob = services.activity(ctx.as_user(crm["bob"]), kinds=("email",))
    assert seen_by_bob[0]["sentence"] == "Alice received an email from Tom Smith of Bloom Pension"
    assert seen_by_bob[0]["detail"]["snippet"] == "" and seen_by_bob[0]["detail"]["subject"] == ""


def test_people_added_later_get_their_past_mail(ctx: Context, crm: dict, tmp_path: Path) -> None:
    before = [
        m.plain(subject="Hi", sender="kim@kestrel.example", to=ALICE, message_id="<k1@k>"),
        m.plain(subject="Yo", sender="lee@lark.example", to=ALICE, message_id="<l1@l>"),
        m.plain(subject="Re", sender="max@acme.example", to=ALICE, message_id="<x1@a>"),
    ]
    services.import_mailbox(ctx, write_mbox(tmp_path / "a.mbox", before), ALICE)
    kestrel = services.create_investor(ctx, {"name": "Kestrel LP"})
    services.add_person(ctx, kestrel["id"], {"full_name": "Kim", "email": "KIM@kestrel.example"})
    assert services.investor_emails(ctx, kestrel["id"])["emails"] == 1  # added by hand
    result = services.bulk_create_investors(  # an import's people
        ctx, [{"name": "Lark LP", "people": [{"full_name": "Lee", "email": "lee@lark.example"}]}]
    )
    assert services.investor_emails(ctx, result.first_investor_id)["emails"] == 1
    person = services.add_person(ctx, crm["acme"], {"full_name": "Max"})  # no address yet
    assert services.investor_emails(ctx, crm["acme"])["emails"] == 0
    services.update_person(
        ctx, person["id"], {"email": "max@acme.example"}, expected_version=person["version"]
    )
    assert services.investor_emails(ctx, crm["acme"])["emails"] == 1


def test_a_30_mb_message_is_read_and_its_attachment_listed_not_kept(
    ctx: Context, crm: dict, tmp_path: Path
) -> None:
    big = m.plain(sender="jane@acme.example", to=ALICE, message_id="<big@acme.example>")
    big.add_attachment(b"\0" * 22_000_000, maintype="application", subtype="zip", filename="dr.zip")
    path = write_mbox(tmp_path / "big.mbox", [big, alice_corpus()[1]])
    assert path.stat().st_size > 29_000_000  # base64 on the wire
    report = services.import_mailbox(ctx, path, ALICE)
    assert report.stored == 2 and report.failed == []
    attachments, size = ctx.db.execute(
        "SELECT attachments, size FROM emails WHERE message_id = 'big@acme.example'"
    ).fetchone()
    assert json.loads(attachments) == [
        {"filename": "dr.zip", "content_type": "application/zip", "size": 22_000_000}
    ]
    assert size > 29_000_000
    assert ctx.db.execute("SELECT max(length(body_text)) FROM emails").fetchone()[0] < 10_000
