"""One outgoing email as MIME, built by the standard library's ``email`` package.

``EmailMessage`` refuses header values holding line breaks, so no name or subject can inject a
header; addresses are checked by ``email.headerregistry``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from crm_lib.errors import ValidationError


@dataclass(frozen=True)
class Outgoing:
    """What to send: sender, recipients, subject and both bodies."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    sender_name: str = "Venture CRM"


def address(text: str, *, name: str = "") -> Address:
    """A checked address (``ValidationError`` names it when it is not one)."""
    local, at, domain = text.strip().rpartition("@")
    if not at or not local or not domain or any(c in text for c in "\r\n<>,;\"'"):
        raise ValidationError(f"{text!r} is not an email address", field="to")
    try:
        return Address(display_name=name, username=local, domain=domain)
    except (ValueError, IndexError):
        raise ValidationError(f"{text!r} is not an email address", field="to") from None


def build_message(outgoing: Outgoing, *, now: datetime) -> EmailMessage:
    """The MIME message: text/plain, plus text/html as the alternative when given."""
    if not outgoing.recipients:
        raise ValidationError("The message has no recipients", field="to")
    message = EmailMessage()
    sender = address(outgoing.sender, name=outgoing.sender_name)
    message["From"] = sender
    message["To"] = [address(r) for r in outgoing.recipients]
    message["Subject"] = " ".join(outgoing.subject.split())
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to the digest
    message.set_content(outgoing.text)
    if outgoing.html is not None:
        message.add_alternative(outgoing.html, subtype="html")
    return message
