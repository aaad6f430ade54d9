"""The email page (/email) and the record page's Emails tab, driven through their widgets
without a browser: the proposal queue filtered and decided, a thread read and marked private,
and the timeline of an investor's mail."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest

import crm_lib
from apps.mail.page import EmailPage
from apps.record.page import RecordPage
from apps.runtime import Runtime
from apps.shell import nav_html
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of
from tests.mail import messages as m

ALICE, BOB = "alice@fund.example", "bob@fund.example"


@pytest.fixture
def runtime(settings_with_team: Settings, tmp_path: Path) -> Runtime:
    """Acme (Jane Doe) with a thread with Jane, and mail from two colleagues at acme.example
    waiting as proposals; all in Alice's imported mailbox."""
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    acme = services.create_investor(ctx, {"name": "Acme <b>Capital</b>", "website": "acme.example"})
    services.add_person(ctx, acme["id"], {"full_name": "Jane Doe", "email": "jane@acme.example"})
    box = mailbox.mbox(tmp_path / "alice.mbox")
    for message in (
        m.plain(subject="Fund III", sender=ALICE, to="jane@acme.example", message_id="<1@f>"),
        m.plain(
            subject="Re: Fund III",
            sender="jane@acme.example",
            to=ALICE,
            message_id="<2@a>",
            In_Reply_To="<1@f>",
            References="<1@f>",
            body="Works for us <script>x</script>\n",
        ),
        m.plain(subject="Hello", sender="Carol <carol@acme.example>", to=ALICE, message_id="<3@a>"),
        m.plain(
            subject="Meeting", sender=ALICE, to="Dave Lee <dave@acme.example>", message_id="<4@f>"
        ),
    ):
        box.add(message.as_bytes())
    box.flush()
    box.close()
    services.import_mailbox(ctx, tmp_path / "alice.mbox", ALICE)
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def investor_id(runtime: Runtime) -> int:
    with runtime.context() as ctx:
        return ctx.db.execute("SELECT id FROM fundraising_investors").fetchone()[0]


def test_the_queue_lists_proposals_and_decides_the_ticked_ones(runtime: Runtime) -> None:
    page = EmailPage(runtime, session=session_of(runtime, BOB))  # members decide too
    assert list(page.table.value["From / to"]) == ["dave@acme.example", "carol@acme.example"]
    assert "2 proposals" in page.info.object
    assert "Acme <b>Capital</b>" in list(
        page.table.value["Investor"]
    )  # a value, escaped by the table
    page.decide(approve=True)
    assert page.failed and page.message == "Tick the proposals to decide first."
    page.table.selection = [0]  # Dave: the team wrote to him
    page.decide(approve=True, add_person=True)
    assert page.message == "Approved 1 proposal; 1 person added."
    page.table.selection = [0]  # Carol now
    page.keys.param.update(key="r", presses=1)  # the r key
    assert page.message.startswith("Rejected 1 proposal")
    assert page.table.value.empty and "0 proposals" in page.info.object
    page.status_choice.value = "approved"
    assert list(page.table.value["From / to"]) == ["dave@acme.example"]
    assert page.approve_button.disabled  # decided ones are not decided again
    with runtime.context() as ctx:
        people = services.list_people(ctx, investor_id(runtime))
    assert sorted(p["full_name"] for p in people) == ["Dave Lee", "Jane Doe"]


def test_a_thread_reads_escaped_and_its_owner_can_make_it_private(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        thread_id = services.investor_emails(ctx, investor_id(runtime))["threads"][-1]["thread_id"]
    page = EmailPage(runtime, session=session_of(runtime, ALICE))
    page.thread_id = thread_id
    page.show_thread()
    html = page.thread.object
    assert "Fund III" in html and "&lt;script&gt;" in html and "<script>" not in html
    assert page.private_button.visible and page.private_button.label == "Mark private"
    page.toggle_private()
    assert page.message == "Only you see this thread now."
    bob = EmailPage(runtime, session=session_of(runtime, BOB))
    bob.thread_id = thread_id
    bob.show_thread()
    assert bob.failed and "not there" in bob.thread.object


def test_the_record_page_shows_the_timeline_when_its_tab_opens(runtime: Runtime) -> None:
    page = RecordPage(runtime, session=session_of(runtime, ALICE), investor_id=investor_id(runtime))
    page.load()
    assert not page.emails.loaded  # not read until the tab is opened
    page.tabs.active = page.EMAILS_TAB
    html = page.emails.list.object
    assert page.emails.loaded and "2 emails in 1 thread," in html
    assert "/email?thread=" in html and "← in" in html and "→ out" in html
    assert "Works for us &lt;script&gt;" in html


def test_a_thread_in_the_timeline_becomes_a_follow_up_task(runtime: Runtime) -> None:
    """ "+ Task" on a thread opens the tasks page with the follow-up filled in (investor, the
    thread's subject), saved as a task from email."""
    import re

    from apps.tasks.page import TasksPage

    acme = investor_id(runtime)
    page = RecordPage(runtime, session=session_of(runtime, ALICE), investor_id=acme)
    page.load()
    page.tabs.active = page.EMAILS_TAB
    [link] = re.findall(r"href='(/tasks\?investor=\d+&thread=\d+)'", page.emails.list.object)
    thread = int(link.rsplit("=", 1)[1])
    tasks = TasksPage(runtime, session=session_of(runtime, ALICE))
    tasks._prefill({"investor": [str(acme).encode()], "thread": [str(thread).encode()]})
    assert (tasks.title.value, tasks.investor.value) == (
        "Follow up: Fund III",
        "Acme <b>Capital</b>",
    )
    tasks.add()
    assert tasks.message == "Added the task “Follow up: Fund III”."
    with runtime.context() as ctx:
        [made] = services.list_tasks(ctx, investor_id=acme)
    assert (made["source"], made["title"]) == ("email", "Follow up: Fund III")


def test_the_navigation_offers_the_email_page_to_members(runtime: Runtime) -> None:
    assert 'href="/email"' in nav_html(session_of(runtime, BOB), "/")


def test_the_navigation_counts_the_proposals_waiting(runtime: Runtime) -> None:
    page = EmailPage(runtime, session=session_of(runtime, BOB))
    assert page.nav_counts() == {"/email": 2}
    html = nav_html(session_of(runtime, BOB), "/", page.nav_counts())
    assert '<span class="crm-nav-count" aria-label="2 waiting">2</span>' in html
    assert "crm-nav-count" not in nav_html(session_of(runtime, BOB), "/", {"/email": 0})


def test_the_admin_page_connects_google_and_chooses_mailboxes(runtime: Runtime) -> None:
    import json
    import os
    import stat

    from apps.admin.page import AdminPage

    page = AdminPage(runtime, session=session_of(runtime, ALICE))
    section = page.email_section
    assert "Google is not connected" in section.status.object
    assert list(section.accounts.value["Mailbox"]) == [ALICE]  # the imported mailbox
    key = {
        "type": "service_account",
        "client_email": "sync@fund.iam.gserviceaccount.com",
        "private_key": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    section.key_file.value = json.dumps(key).encode()
    section.save_key()
    assert not page.failed and "sync@fund.iam.gserviceaccount.com" in section.status.object
    assert section.key_file.value is None  # not kept in the page
    path = runtime.settings.data_dir / "google-service-account.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "PRIVATE" not in section.status.object
    section.mailboxes.value = [ALICE, BOB]
    section.save_mailboxes()
    assert page.message == "2 mailboxes chosen for syncing."
    assert list(section.accounts.value["Synced"]) == ["✓", "✓"]
    section.domains.value = "Fund-Partners.example; other.example"
    section.save_domains()
    assert section.domains.value == "fund-partners.example, other.example"
    section.blocklist.value = "@acme.example\n"
    section.save_blocklist()
    assert page.message == "Blocklist saved (1 entry); 4 stored emails hidden."


def test_one_investors_proposals_and_the_grids_record_panel(runtime: Runtime) -> None:
    from apps.grid.page import GridPage

    acme = investor_id(runtime)
    page = EmailPage(runtime, session=session_of(runtime, ALICE))
    page.investor_id = acme  # as /email?investor=<id> opens it
    page.go(1)
    assert "2 proposals</b> waiting for review for Acme &lt;b&gt;Capital&lt;/b&gt;" in (
        page.info.object
    )
    page.show_all()
    assert page.investor_id is None and not page.all_button.visible
    grid = GridPage(runtime, session=session_of(runtime, ALICE))
    grid.record.show(acme)
    html = grid.record.emails.list.object
    assert "2 emails in 1 thread," in html and f"/email?investor={acme}" in html


def test_a_mailbox_owner_sets_what_others_see_on_the_account_page(runtime: Runtime) -> None:
    from apps.account.page import AccountPage

    bob_page = AccountPage(runtime, session=session_of(runtime, BOB))
    assert not bob_page.mailbox_section.visible  # Bob has no mailbox
    page = AccountPage(runtime, session=session_of(runtime, ALICE))
    assert page.mailbox_section.visible and page.sharing_choice.value == "everything"
    page.sharing_choice.value = "subject"
    page.save_sharing()
    assert page.message == f"Others now see the subject of {ALICE}'s mail."
    with runtime.context() as ctx:
        assert services.email_accounts(ctx)[0]["sharing"] == "subject"
    with runtime.context() as ctx:
        first = services.investor_emails(ctx, investor_id(runtime))["threads"][0]["thread_id"]
    thread = EmailPage(runtime, session=session_of(runtime, BOB))
    thread.thread_id = first
    thread.show_thread()
    assert "shares the subject only" in thread.thread.object
