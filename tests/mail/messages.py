"""Real-shaped messages written with the standard library (what Gmail, Outlook and mailing
lists send): the fixtures of the mail tests and of bench/bench_email.py."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid


def plain(
    subject: str = "Fund III data room",
    sender: str = "Jane Doe <jane@lp.example>",
    to: str = "Alice <alice@fund.example>",
    body: str = "Thanks, the data room works.\n",
    when: datetime | None = datetime(2026, 11, 2, 15, 30, tzinfo=UTC),
    message_id: str | None = None,
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    if when is not None:
        message["Date"] = format_datetime(when)
    message["Message-ID"] = message_id or make_msgid(domain="lp.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def alternative(text: str, html: str, **kwargs: object) -> EmailMessage:
    message = plain(body=text, **kwargs)  # type: ignore[arg-type]
    message.add_alternative(html, subtype="html")
    return message


def html_only(html: str, **kwargs: object) -> EmailMessage:
    message = plain(**kwargs)  # type: ignore[arg-type]
    message.set_content(html, subtype="html")
    return message


def with_attachment(**kwargs: object) -> EmailMessage:
    message = plain(**kwargs)  # type: ignore[arg-type]
    message.add_attachment(
        b"%PDF-1.7 " + b"x" * 2000, maintype="application", subtype="pdf", filename="LPA.pdf"
    )
    return message


def raw_latin1() -> bytes:
    """A message in ISO-8859-1 with an RFC 2047 encoded subject."""
    return (
        "From: =?iso-8859-1?q?Ren=E9_M=FCller?= <rene@lp.example>\r\n"
        "To: alice@fund.example\r\n"
        "Subject: =?iso-8859-1?q?R=E9union_=E0_Z=FCrich?=\r\n"
        "Date: Mon, 02 Nov 2026 10:00:00 +0100\r\n"
        "Message-ID: <latin1@lp.example>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii") + "Très bien, à mardi.\r\n".encode("latin-1")


def raw_broken_charset() -> bytes:
    """A message whose declared charset does not exist (the body is really UTF-8)."""
    return (
        "From: Bob <bob@lp.example>\r\nTo: alice@fund.example\r\nSubject: Hello\r\n"
        "Message-ID: <broken@lp.example>\r\n"
        "Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n"
    ).encode("ascii") + "Grüße aus Köln\r\n".encode()
