"""Digest fixtures: the mail tests' team and investors (Alice admin, Bob member; Acme with Jane,
Bloom with Tom, archived Gone LP with Zed), mail in their mailboxes, a real SMTP server on
loopback (aiosmtpd), and a test CA for STARTTLS (trustme)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from crm_lib import services
from crm_lib.context import Context
from crm_lib.mail.ingest import RawMessage, ingest
from crm_lib.outbox.smtp import SMTPTransport
from tests.apps.server import free_port
from tests.mail.conftest import ALICE, BOB, crm, day  # noqa: F401 (crm is a fixture)
from tests.mail.messages import plain

__all__ = ["ALICE", "BOB", "Inbox", "day", "deliver"]


def deliver(ctx: Context, mailbox: str, message: EmailMessage, ref: str = "") -> None:
    """Put ``message`` into ``mailbox`` as an import would (linked, proposed or skipped)."""
    account = services.ensure_account(ctx, mailbox)
    ingest(ctx, account, [RawMessage(message.as_bytes(), ref or message["Message-ID"])])


def mail(
    subject: str,
    sender: str,
    to: str,
    when: datetime,
    body: str = "Thanks for the call.\n",
    **headers: str,
) -> EmailMessage:
    return plain(subject=subject, sender=sender, to=to, when=when, body=body, **headers)


@dataclass
class Inbox:
    """What the SMTP server on loopback received."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": message_from_bytes(envelope.content, policy=policy.default),
                "tls": session.ssl is not None,
                "login": session.authenticated,
            }
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SMTPTransport]]:
    """A plain SMTP server on loopback and the transport that reaches it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SMTPTransport("127.0.0.1", port, "none", timeout_s=10)
    finally:
        controller.stop()


@pytest.fixture
def tls_smtp() -> Iterator[tuple[Inbox, SMTPTransport]]:
    """An SMTP server on loopback that requires STARTTLS (a trustme CA) and a login."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    inbox = Inbox()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"digest",
            b"s3cret-smtp",
        )
        return AuthResult(success=ok, handled=False)  # the server answers 535 itself

    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield (
            inbox,
            SMTPTransport(
                "127.0.0.1",
                port,
                "starttls",
                user="digest",
                password="s3cret-smtp",
                timeout_s=10,
                ssl_context=client_context,
            ),
        )
    finally:
        controller.stop()


@pytest.fixture
def admin(ctx: Context, crm: dict) -> Context:  # noqa: F811
    """Alice (admin) acting."""
    return ctx.as_user(crm["alice"])
