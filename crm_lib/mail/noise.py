"""Mail that is not a relationship: skipped before matching, each skip counted with its reason.

Bulk and automatic mail announces itself in its headers (RFC 2369 ``List-*``, RFC 3834
``Auto-Submitted``, ``Precedence``); Gmail files promotions, social, updates and forums under
categories, and spam, trash and drafts under system labels; calendar invitations are
scheduling traffic, not conversation. A message from a role or no-reply address is a
notification. The first reason that applies is the one recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_lib.mail.addresses import is_role_address
from crm_lib.mail.parse import ParsedEmail

#: Gmail labels whose mail is never captured, and the reason recorded for each.
SKIPPED_LABELS = {
    "CATEGORY_PROMOTIONS": "Gmail category: Promotions",
    "CATEGORY_SOCIAL": "Gmail category: Social",
    "CATEGORY_UPDATES": "Gmail category: Updates",
    "CATEGORY_FORUMS": "Gmail category: Forums",
    "SPAM": "spam",
    "TRASH": "trash",
    "DRAFT": "draft",
}
#: The same labels as Google Takeout writes them in an mbox's X-Gmail-Labels header.
TAKEOUT_LABELS = {
    "category promotions": "CATEGORY_PROMOTIONS",
    "category social": "CATEGORY_SOCIAL",
    "category updates": "CATEGORY_UPDATES",
    "category forums": "CATEGORY_FORUMS",
    "spam": "SPAM",
    "trash": "TRASH",
    "drafts": "DRAFT",
}


def skip_reason(message: ParsedEmail, labels: Iterable[str] = ()) -> str | None:
    """Why ``message`` is not captured, or None when it is a conversation to keep.
    ``labels``: Gmail label ids (from the API); Takeout's header labels are read too."""
    chosen = set(labels) | _takeout_labels(message.headers.get("x-gmail-labels", ""))
    for label, reason in SKIPPED_LABELS.items():
        if label in chosen:
            return reason
    headers = message.headers
    if "list-unsubscribe" in headers or "list-id" in headers:
        return "bulk mail (mailing list headers)"
    if headers.get("precedence", "").strip().casefold() in ("bulk", "list", "junk"):
        return f"bulk mail (Precedence: {headers['precedence'].strip()})"
    auto = headers.get("auto-submitted", "").strip().casefold()
    if auto and auto != "no":
        return f"automatic mail (Auto-Submitted: {auto})"
    if any(a.content_type == "text/calendar" for a in message.attachments):
        return "calendar invitation"
    if message.from_address and is_role_address(message.from_address):
        return f"from a role or no-reply address ({message.from_address})"
    return None


def _takeout_labels(header: str) -> set[str]:
    names = {part.strip().casefold() for part in header.split(",") if part.strip()}
    return {TAKEOUT_LABELS[name] for name in names if name in TAKEOUT_LABELS}
