"""Gmail sync against googleapiclient's HttpMockSequence replaying realistic Gmail API JSON: list
pages, raw base64url messages in batch responses, history with added and deleted messages, an
expired history id, 429 with Retry-After, 5xx, a refused key. No network: the client is built
from the discovery document shipped in the package and talks only to the mock."""

from __future__ import annotations

import base64
import json
import os
import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from googleapiclient.http import HttpMockSequence

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import PermissionDenied, ValidationError
from crm_lib.jobs import RunLock
from crm_lib.mail.gmail import gmail_service
from crm_lib.services.email_sync import (
    check_google,
    google_status,
    save_google_key,
    set_synced_mailboxes,
    sync_email,
)
from tests.mail import messages as m
from tests.mail.conftest import ALICE, BOB, day

KEY = {
    "type": "service_account",
    "client_email": "crm-sync@fund-project.iam.gserviceaccount.com",
    "private_key": "-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n",
    "token_uri": "https://oauth2.googleapis.com/token",
}


def ok(payload: dict) -> tuple[dict, str]:
    return ({"status": "200", "content-type": "application/json"}, json.dumps(payload))


def error(status: int, message: str = "error", **headers: str) -> tuple[dict, str]:
    body = {"error": {"code": status, "message": message}}
    return (
        {"status": str(status), "content-type": "application/json", **headers},
        json.dumps(body),
    )


def raw_of(message: object) -> str:
    return base64.urlsafe_b64encode(message.as_bytes()).decode().rstrip("=")  # type: ignore[attr-defined]


def batch(*parts: tuple[str, int, dict]) -> tuple[dict, str]:
    """A multipart/mixed batch answer, one part per (gmail id, status, JSON body)."""
    boundary = "batch_bound"
    body = ""
    for gmail_id, status, payload in parts:
        body += (
            f"--{boundary}\r\nContent-Type: application/http\r\n"
            f"Content-ID: <response-base + {gmail_id}>\r\n\r\n"
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            "Content-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps(payload)}\r\n"
        )
    body += f"--{boundary}--\r\n"
    return ({"status": "200", "content-type": f"multipart/mixed; boundary={boundary}"}, body)


def got(gmail_id: str, message: object, *labels: str) -> tuple[str, int, dict]:
    payload = {"id": gmail_id, "threadId": f"t-{gmail_id}", "labelIds": list(labels) or ["INBOX"]}
    return gmail_id, 200, {**payload, "raw": raw_of(message)}


def reply_from_jane() -> object:
    return m.plain(
        subject="Re: Fund III",
        sender="Jane Doe <jane@acme.example>",
        to=ALICE,
        body="Thanks!\n",
        when=day(3),
        message_id="<g-reply@acme.example>",
    )


def from_tom() -> object:
    return m.plain(
        subject="Call",
        sender="tomsmith@gmail.com",
        to=ALICE,
        when=day(4),
        message_id="<g-tom@gmail.com>",
    )


def promo() -> object:
    return m.plain(subject="Sale", sender="deals@shop.example", to=ALICE, message_id="<p@s>")


class Mock:
    """One HttpMockSequence per run, remembering the requests made."""

    def __init__(self, *responses: tuple[dict, str]) -> None:
        self.http = HttpMockSequence(list(responses))

    def factory(self, address: str) -> object:
        return gmail_service(None, address, http=self.http)

    @property
    def uris(self) -> list[str]:
        return [uri for uri, *_ in self.http.request_sequence]

    @property
    def left(self) -> int:
        return len(self.http._iterable)


@pytest.fixture
def synced(ctx: Context, crm: dict) -> Context:
    set_synced_mailboxes(ctx, [ALICE])
    return ctx


def account(ctx: Context) -> dict:
    return next(a for a in services.email_accounts(ctx) if a["email"] == ALICE)


def row(ctx: Context) -> dict:
    found = ctx.db.execute("SELECT * FROM email_accounts WHERE email = ?", [ALICE])
    return dict(zip([d[0] for d in found.description], found.fetchone(), strict=True))


def test_a_first_sync_lists_the_window_fetches_in_batches_and_sets_the_cursor(
    synced: Context, crm: dict
) -> None:
    sleeps: list[float] = []
    mock = Mock(
        ok({"emailAddress": ALICE, "messagesTotal": 3, "historyId": "500"}),
        ok({"messages": [{"id": "a", "threadId": "t-a"}, {"id": "b"}], "nextPageToken": "p2"}),
        ok({"messages": [{"id": "c"}], "resultSizeEstimate": 1}),
        batch(
            got("a", reply_from_jane()),
            got("b", promo(), "CATEGORY_PROMOTIONS"),
            ("c", 503, {"error": {"code": 503, "message": "backend error"}}),
        ),
        batch(got("c", from_tom())),  # the 503 retried alone
    )
    (result,) = sync_email(synced, factory=mock.factory, sleep=sleeps.append)
    assert mock.left == 0 and len(sleeps) == 1  # one back-off, before the retry
    assert result["status"] == "idle" and result["stage"] == "first sync"
    assert result["stored"] == 2 and result["linked"] == 2
    assert result["skipped"] == {"Gmail category: Promotions": 1}
    listed = parse_qs(urlparse(mock.uris[1]).query)
    assert listed["q"][0].startswith("after:") and listed["maxResults"] == ["500"]
    assert "batch" in mock.uris[3]
    stored = row(synced)
    assert (stored["history_id"], stored["messages_total"], stored["status"]) == ("500", 3, "idle")
    assert stored["messages_stored"] == 2 and stored["last_error"] is None
    assert [t["subject"] for t in services.investor_emails(synced, crm["acme"])["threads"]] == [
        "Re: Fund III"
    ]
    holding = synced.db.execute(
        "SELECT gmail_id, gmail_thread_id, labels FROM email_account_messages ORDER BY gmail_id"
    ).fetchall()
    assert [tuple(h) for h in holding] == [("a", "t-a", '["INBOX"]'), ("c", "t-c", '["INBOX"]')]


def test_an_incremental_sync_follows_history_adds_and_deletes(synced: Context, crm: dict) -> None:
    first = Mock(
        ok({"messagesTotal": 1, "historyId": "500"}),
        ok({"messages": [{"id": "a"}]}),
        batch(got("a", reply_from_jane())),
    )
    sync_email(synced, factory=first.factory)
    later = Mock(
        ok({"messagesTotal": 1, "historyId": "610"}),
        ok(
            {
                "history": [
                    {
                        "id": "601",
                        "messagesAdded": [{"message": {"id": "d", "labelIds": ["INBOX"]}}],
                    },
                    {"id": "605", "messagesDeleted": [{"message": {"id": "a"}}]},
                ],
                "historyId": "610",
            }
        ),
        batch(got("d", from_tom())),
    )
    (result,) = sync_email(synced, factory=later.factory)
    assert later.left == 0 and result["stage"] == "incremental"
    assert parse_qs(urlparse(later.uris[1]).query)["startHistoryId"] == ["500"]
    assert result["stored"] == 1 and result["deleted"] == 1
    assert row(synced)["history_id"] == "610" and row(synced)["messages_stored"] == 1
    # the deleted message left Alice's mailbox; no mailbox holds it, so it shows nowhere
    assert services.investor_emails(synced, crm["acme"])["emails"] == 0
    assert services.investor_emails(synced, crm["bloom"])["emails"] == 1


def test_an_expired_history_id_starts_a_bounded_resync(synced: Context, crm: dict) -> None:
    synced.db.execute("UPDATE email_accounts SET history_id = '42'")
    synced.db.conn.commit()
    mock = Mock(
        ok({"messagesTotal": 1, "historyId": "900"}),
        error(404, "Requested entity was not found."),
        ok({"messages": [{"id": "a"}]}),
        batch(got("a", reply_from_jane())),
    )
    (result,) = sync_email(synced, factory=mock.factory)
    assert result["stage"] == "resync" and result["stored"] == 1 and mock.left == 0
    after = int(parse_qs(urlparse(mock.uris[2]).query)["q"][0].removeprefix("after:"))
    assert after == int((synced.clock.now() - timedelta(days=30)).timestamp())
    assert row(synced)["history_id"] == "900"


def test_429_honours_retry_after_and_a_mailbox_still_throttled_is_paused(
    synced: Context, crm: dict
) -> None:
    sleeps: list[float] = []
    mock = Mock(
        error(429, "rate limit", **{"retry-after": "7"}),
        ok({"messagesTotal": 0, "historyId": "10"}),
        ok({}),
    )
    (result,) = sync_email(synced, factory=mock.factory, sleep=sleeps.append)
    assert sleeps == [7.0] and result["status"] == "idle" and row(synced)["history_id"] == "10"

    throttled = Mock(*[error(429, "rate limit") for _ in range(6)])
    (result,) = sync_email(synced, factory=throttled.factory, sleep=sleeps.append)
    assert result["status"] == "paused" and "rate-limiting" in result["error"]
    stored = row(synced)
    assert stored["status"] == "paused" and stored["throttled"] == 1
    assert stored["paused_until"] > synced.clock.now().isoformat()
    assert sync_email(synced, factory=Mock().factory) == []  # paused: not due


def test_a_message_that_cannot_be_fetched_keeps_the_cursor_and_is_fetched_next_time(
    synced: Context, crm: dict
) -> None:
    mock = Mock(
        ok({"messagesTotal": 2, "historyId": "500"}),
        ok({"messages": [{"id": "a"}, {"id": "c"}]}),
        batch(got("a", reply_from_jane()), ("c", 403, {"error": {"code": 403}})),
    )
    (result,) = sync_email(synced, factory=mock.factory)
    assert result["unfetched"] == 1 and "could not be fetched" in result["error"]
    assert row(synced)["history_id"] is None  # not past the missing message
    failures = synced.db.execute("SELECT source_ref, reason FROM email_failures").fetchall()
    assert [tuple(f) for f in failures] == [("c", "Gmail answered 403")]
    again = Mock(
        ok({"messagesTotal": 2, "historyId": "501"}),
        ok({"messages": [{"id": "a"}, {"id": "c"}]}),
        batch(got("c", from_tom())),  # only the missing one is fetched
    )
    (result,) = sync_email(synced, factory=again.factory)
    assert result["stored"] == 1 and again.left == 0 and row(synced)["history_id"] == "501"
    body = again.http.request_sequence[2][2]
    assert "/messages/c?" in body and "/messages/a?" not in body


def test_a_refused_key_marks_the_mailbox_failed_with_a_reason(synced: Context) -> None:
    mock = Mock(error(403, "Delegation denied for alice@fund.example"))
    (result,) = sync_email(synced, factory=mock.factory)
    assert result["status"] == "failed"
    assert result["error"].startswith("no access: check domain-wide delegation")
    assert row(synced)["status"] == "failed"
    assert sync_email(synced, factory=Mock().factory) == []  # failed: an admin restarts it
    set_synced_mailboxes(synced, [ALICE])
    assert row(synced)["status"] == "idle"


def test_two_runs_never_overlap(synced: Context) -> None:
    lock = RunLock(synced.settings.data_dir / "locks" / f"email-{account(synced)['id']}.lock")
    with lock:
        (result,) = sync_email(synced, factory=Mock().factory)
    assert result["status"] == "skipped" and result["error"] == "already syncing"


def test_the_key_is_kept_private_and_never_shown(ctx: Context, crm: dict) -> None:
    assert google_status(ctx)["connected"] is False
    with pytest.raises(ValidationError, match="not a service account key"):
        save_google_key(ctx, json.dumps({"type": "authorized_user"}))
    with pytest.raises(ValidationError, match="not a JSON file"):
        save_google_key(ctx, "{not json")
    shown = save_google_key(ctx, json.dumps(KEY))
    assert shown == {"connected": True, "service_account": KEY["client_email"]}
    path = ctx.settings.data_dir / "google-service-account.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    status = google_status(ctx)
    assert status["service_account"] == KEY["client_email"]
    assert "PRIVATE" not in json.dumps(status)
    with pytest.raises(PermissionDenied):
        save_google_key(ctx.as_user(crm["bob"]), json.dumps(KEY))
    named = replace(ctx, settings=replace(ctx.settings, google_service_account_file=Path("/k")))
    with pytest.raises(ValidationError, match="CRM_GOOGLE_SERVICE_ACCOUNT_FILE"):
        save_google_key(named, json.dumps(KEY))


def test_only_team_members_mailboxes_sync_and_a_test_reads_the_profile(
    ctx: Context, crm: dict
) -> None:
    with pytest.raises(ValidationError, match=r"Not a team member: jane@acme\.example"):
        set_synced_mailboxes(ctx, [ALICE, "jane@acme.example"])
    set_synced_mailboxes(ctx, [ALICE, BOB])
    assert sorted(a["email"] for a in services.email_accounts(ctx)) == [ALICE, BOB]
    set_synced_mailboxes(ctx, [BOB])
    assert not row(ctx)["sync_enabled"]
    mock = Mock(ok({"emailAddress": BOB, "messagesTotal": 1234, "historyId": "1"}))
    assert check_google(ctx, BOB, factory=mock.factory) == (
        "Connected: bob@fund.example has 1,234 messages"
    )
    refused = Mock(error(401, "invalid_grant"))
    assert check_google(ctx, BOB, factory=refused.factory).startswith("Failed: the key was refused")


def test_the_budget_waits_out_the_minute_once_its_units_are_spent() -> None:
    from crm_lib.mail.gmail import Budget

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = Budget(per_minute=1_000, clock=lambda: now[0], sleep=sleep)
    for _ in range(4):
        budget.spend(250)  # 50 messages.get at 5 units each
    assert slept == []
    now[0] += 10
    budget.spend(250)  # over the minute's units: wait for the rest of the minute
    assert slept == [50.0]
