"""Bulk, automatic and filed-away mail is skipped with its reason; conversations are kept."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from crm_lib.mail.noise import skip_reason
from crm_lib.mail.parse import parse_message
from tests.mail import messages


def invitation() -> EmailMessage:
    message = messages.plain()
    message.add_attachment(
        "BEGIN:VCALENDAR\nEND:VCALENDAR\n", subtype="calendar", filename="invite.ics"
    )
    return message


@pytest.mark.parametrize(
    ("message", "labels", "reason"),
    [
        (messages.plain(), (), None),
        (messages.plain(), ("INBOX", "CATEGORY_PROMOTIONS"), "Gmail category: Promotions"),
        (messages.plain(), ("SPAM",), "spam"),
        (messages.plain(X_Gmail_Labels="Inbox,Category Social"), (), "Gmail category: Social"),
        (messages.plain(List_Id="<news.lp.example>"), (), "bulk mail (mailing list headers)"),
        (messages.plain(Precedence="bulk"), (), "bulk mail (Precedence: bulk)"),
        (
            messages.plain(Auto_Submitted="auto-replied"),
            (),
            "automatic mail (Auto-Submitted: auto-replied)",
        ),
        (messages.plain(Auto_Submitted="no"), (), None),
        (
            messages.plain(sender="noreply@lp.example"),
            (),
            "from a role or no-reply address (noreply@lp.example)",
        ),
        (invitation(), (), "calendar invitation"),
    ],
)
def test_skip_reasons(message: EmailMessage, labels: tuple[str, ...], reason: str | None) -> None:
    assert skip_reason(parse_message(message.as_bytes()), labels) == reason
