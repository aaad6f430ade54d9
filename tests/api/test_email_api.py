"""The email routes on a live server of their own: an investor's timeline, a thread, the
proposal queue and its decisions, aliases and mailboxes, as a member and as an admin."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from argon2 import profiles

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.api.conftest import LiveServer, start
from tests.mail import messages as m


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from start(tmp_path_factory.mktemp("mail"), CRM_WRITE_RATE_PER_MINUTE="100000")


def seed(live: LiveServer, tmp_path: Path) -> int:
    """Acme with Jane; Jane's mail linked, Carol's (same domain) proposed."""
    settings = Settings(data_dir=live.data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        acme = services.create_investor(ctx, {"name": "Acme Capital", "website": "acme.example"})
        services.add_person(ctx, acme["id"], {"full_name": "Jane", "email": "jane@acme.example"})
        box = mailbox.mbox(tmp_path / "a.mbox")
        for sender, mid in (("jane@acme.example", "<1@a>"), ("carol@acme.example", "<2@a>")):
            box.add(m.plain(sender=sender, to=live.admin_email, message_id=mid).as_bytes())
        box.flush()
        box.close()
        services.import_mailbox(ctx, tmp_path / "a.mbox", live.admin_email)
        return acme["id"]
    finally:
        ctx.close()


def test_members_read_timelines_and_threads_and_decide_proposals(
    mail_server: LiveServer, tmp_path: Path
) -> None:
    live = mail_server
    investor_id = seed(live, tmp_path)
    member = live.bearer("member")
    timeline = requests.get(
        f"{live.base}/api/fundraising/investors/{investor_id}/emails", headers=member, timeout=30
    ).json()
    assert timeline["emails"] == 1 and timeline["threads"][0]["messages"][0]["visibility"] == (
        "everything"
    )
    thread_id = timeline["threads"][0]["thread_id"]
    thread = requests.get(f"{live.base}/api/email/threads/{thread_id}", headers=member, timeout=30)
    assert thread.status_code == 200
    assert thread.json()["messages"][0]["body_text"].startswith("Thanks, the data room works.")
    queue = requests.get(f"{live.base}/api/email/proposals", headers=member, timeout=30).json()
    assert queue["total"] == 1 and queue["proposals"][0]["address"] == "carol@acme.example"
    decided = requests.post(
        f"{live.base}/api/email/proposals/decisions",
        json={"ids": [queue["proposals"][0]["id"]], "decision": "approve"},
        headers=member,
        timeout=30,
    )
    assert decided.status_code == 200 and decided.json()["approved"] == 1
    again = requests.get(
        f"{live.base}/api/fundraising/investors/{investor_id}/emails", headers=member, timeout=30
    ).json()
    assert again["emails"] == 2
    refused = requests.post(
        f"{live.base}/api/email/proposals/decisions",
        json={"ids": [1], "decision": "maybe"},
        headers=member,
        timeout=30,
    )
    assert refused.status_code == 422 and refused.json()["error"] == "invalid"


def test_admins_manage_aliases_and_mailboxes_members_do_not(mail_server: LiveServer) -> None:
    live = mail_server
    accounts = requests.get(
        f"{live.base}/api/email/accounts", headers=live.bearer("member"), timeout=30
    )
    assert accounts.status_code == 200 and isinstance(accounts.json(), list)
    for role, expected in (("member", 403), ("admin", 200)):
        synced = requests.post(
            f"{live.base}/api/email/accounts/sync", headers=live.bearer(role), timeout=30
        )
        assert synced.status_code == expected, synced.text
    assert synced.json() == []  # no Gmail mailbox is chosen
    alias = requests.post(
        f"{live.base}/api/fundraising/people/987654/email-aliases",
        json={"address": "jd@home.example"},
        headers=live.bearer("admin"),
        timeout=30,
    )
    assert alias.status_code == 404
