"""Sending the digest: a real SMTP server on loopback (aiosmtpd) receives it, plain and with
STARTTLS and a login; Gmail's users.messages.send is replayed by googleapiclient's HttpMock, and
a Gmail refusal falls back to SMTP. Recipients are admins only; every send is recorded."""

from __future__ import annotations

import base64
import json
from email import message_from_bytes, policy
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import CRMError, ExternalServiceError, ValidationError
from crm_lib.outbox.gmail import GmailTransport, compose_service
from crm_lib.outbox.smtp import SMTPTransport
from tests.digest.conftest import ALICE, BOB, Inbox, day, deliver, mail


@pytest.fixture
def busy_day(ctx: Context, crm: dict, clock: Any) -> None:
    """Mail with Acme and Bloom on 25 November; the clock at 18:00 that day."""
    deliver(
        ctx, ALICE, mail("Fund III allocation", "Jane Doe <jane@acme.example>", ALICE, day(25, 10))
    )
    deliver(
        ctx, BOB, mail("Data room", f"Bob <{BOB}>", "Tom Smith <tomsmith@gmail.com>", day(25, 11))
    )
    clock.advance(hours=9)  # 25 Nov 09:00 -> 18:00
    assert clock.now().isoformat().startswith("2026-11-25T18:00")


def parts(message: Any) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def test_the_digest_reaches_the_admins_over_smtp_with_both_sections_and_links(
    admin: Context, busy_day: None, smtp: tuple[Inbox, SMTPTransport], crm: dict
) -> None:
    inbox, transport = smtp
    row = services.send_digest(admin, transports=[transport])

    [received] = inbox.messages
    assert received["to"] == [ALICE]  # Bob is a member: the digest goes to admins only
    message = received["message"]
    assert message["Subject"] == row["subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text, html = parts(message)
    for body in (text, html):
        assert "Acme Capital" in body and "Bloom Pension" in body
    assert 'id="by-team-member"' in html and 'id="by-investor"' in html
    assert "BY TEAM MEMBER" in text and "BY INVESTOR" in text
    assert f'href="http://127.0.0.1:5006/record?id={crm["acme"]}"' in html
    assert f"http://127.0.0.1:5006/record?id={crm['bloom']}" in text
    assert row["status"] == "sent" and row["transport"] == "smtp"
    assert row["recipients"] == [ALICE]
    assert row["figures"]["emails"] == 2 and row["figures"]["investors"] == 2
    assert row["html_bytes"] == len(html.encode()) or row["html_bytes"] > 1000
    assert services.digest_policy(admin)["last_window_end"] == row["window_end"]


def test_starttls_with_a_login(
    admin: Context, busy_day: None, tls_smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = tls_smtp
    services.send_digest(admin, transports=[transport])
    [received] = inbox.messages
    assert received["tls"] and received["login"]


def test_a_wrong_smtp_password_is_a_clear_error_that_never_names_the_password(
    admin: Context, busy_day: None, tls_smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = tls_smtp
    wrong = SMTPTransport(
        transport.host,
        transport.port,
        "starttls",
        user="digest",
        password="not-the-password",
        ssl_context=transport.ssl_context,
    )
    with pytest.raises(ExternalServiceError) as failed:
        services.send_digest(admin, transports=[wrong])
    assert "refused the login" in failed.value.message
    assert "not-the-password" not in failed.value.message
    [row] = services.digest_sends(admin)
    assert row["status"] == "failed" and "refused the login" in row["error"]
    assert inbox.messages == []
    assert services.digest_policy(admin)["last_window_end"] is None  # the cursor stays


def test_an_empty_day_is_still_sent_with_a_no_activity_note(
    admin: Context, crm: dict, clock: Any, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    clock.advance(days=2)
    services.send_digest(admin, transports=[transport])
    text, html = parts(inbox.messages[0]["message"])
    assert "No activity in this window" in text
    assert 'data-section="no-activity"' in html
    assert "no email with investors" in inbox.messages[0]["message"]["Subject"]


def test_each_digest_starts_where_the_last_one_ended_and_a_copy_moves_nothing(
    admin: Context, busy_day: None, clock: Any, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    first = services.send_digest(admin, transports=[transport])
    clock.advance(hours=24)
    copy = services.send_digest(admin, to=[ALICE], transports=[transport])
    second = services.send_digest(admin, transports=[transport])
    assert second["window_start"] == first["window_end"]
    assert copy["kind"] == "copy" and copy["window_start"] == first["window_end"]
    assert [s["kind"] for s in services.digest_sends(admin)] == ["manual", "copy", "manual"]
    assert len(inbox.messages) == 3


@pytest.mark.parametrize("to", [["outsider@evil.example"], [BOB], ["alice@fund.example\nBcc: x@y"]])
def test_nobody_but_an_admin_can_be_a_recipient(
    admin: Context, busy_day: None, smtp: tuple[Inbox, SMTPTransport], to: list[str]
) -> None:
    inbox, transport = smtp
    with pytest.raises(ValidationError, match="only to admins"):
        services.send_digest(admin, to=to, transports=[transport])
    with pytest.raises(ValidationError, match="only to admins"):
        services.send_test_email(admin, to=to, transports=[transport])
    assert inbox.messages == []
    assert services.digest_sends(admin) == []


def test_a_member_cannot_send_or_preview_the_digest(
    ctx: Context, crm: dict, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    bob = ctx.as_user(crm["bob"])
    for call in (
        lambda: services.send_digest(bob, transports=[smtp[1]]),
        lambda: services.send_test_email(bob, transports=[smtp[1]]),
        lambda: services.preview_digest(bob),
        lambda: services.digest_policy(bob),
    ):
        with pytest.raises(Exception, match="Only admins"):
            call()


def test_the_test_email_goes_to_the_admin_who_asked(
    admin: Context, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    row = services.send_test_email(admin, transports=[transport])
    [received] = inbox.messages
    assert received["to"] == [ALICE]
    assert received["message"]["Subject"] == "Venture CRM: test email"
    assert row["kind"] == "test" and row["status"] == "sent"
    assert services.digest_policy(admin)["last_window_end"] is None


class RecordingHttp(HttpMockSequence):
    """HttpMockSequence that keeps each request's method, URI and body."""

    def __init__(self, responses: list) -> None:
        super().__init__(responses)
        self.requests: list[tuple[str, str, Any]] = []

    def request(self, uri: str, method: str = "GET", body: Any = None, **kwargs: Any) -> Any:
        self.requests.append((method, uri, body))
        return super().request(uri, method, body, **kwargs)


def test_gmail_sends_the_raw_message_as_the_sender(admin: Context, busy_day: None) -> None:
    http = RecordingHttp(
        [({"status": "200"}, json.dumps({"id": "18c0ffee", "labelIds": ["SENT"]}))]
    )
    gmail = GmailTransport(ALICE, compose_service(None, ALICE, http=http))
    row = services.send_digest(admin, transports=[gmail])

    [(method, uri, body)] = http.requests
    assert method == "POST" and "/gmail/v1/users/me/messages/send" in uri
    raw = base64.urlsafe_b64decode(json.loads(body)["raw"])
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == ALICE and ALICE in message["From"]
    assert "Acme Capital" in message.get_body(("html",)).get_content()
    assert row["transport"] == "gmail" and "18c0ffee" in row["attempts"][0]["detail"]


def test_a_gmail_refusal_falls_back_to_smtp(
    admin: Context, busy_day: None, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    refusal = json.dumps({"error": {"code": 403, "message": "Request had insufficient scopes."}})
    http = HttpMockSequence([({"status": "403"}, refusal)])
    gmail = GmailTransport(ALICE, compose_service(None, ALICE, http=http))
    row = services.send_digest(admin, transports=[gmail, transport])
    assert row["transport"] == "smtp"
    assert [(a["transport"], a["outcome"]) for a in row["attempts"]] == [
        ("gmail", "failed"),
        ("smtp", "sent"),
    ]
    assert "gmail.compose" in row["attempts"][0]["detail"]
    assert len(inbox.messages) == 1


def test_no_transport_configured_says_what_to_set(admin: Context, busy_day: None) -> None:
    with pytest.raises(ExternalServiceError, match="set CRM_SMTP_HOST"):
        services.send_digest(admin)
    assert services.digest_sends(admin)[0]["status"] == "failed"


def test_an_unreadable_google_key_fails_the_send_and_records_why(
    admin: Context, busy_day: None
) -> None:
    (admin.settings.data_dir / "google-service-account.json").write_text("{not json")
    with pytest.raises(CRMError, match="not a readable JSON file"):
        services.send_digest(admin)
    [row] = services.digest_sends(admin)
    assert row["status"] == "failed" and "not a readable JSON file" in row["error"]
