"""One raw RFC 5322 message (Gmail's ``format=raw``, an mbox entry, an ``.eml`` file) as the
facts the CRM keeps: who, to whom, when, the subject, the text, the new text of a reply, the
thread it belongs to, and the attachments it mentions.

Parsing is the standard library's ``email`` package with ``policy.default`` (RFC 2047 headers,
multipart/alternative, transfer encodings). Real mail is messier than the RFCs, so every step
degrades instead of failing: an unknown or lying charset falls back to UTF-8 with replacement
characters, then Latin-1; a missing or broken Date is ``None``; an HTML-only message is turned
into text by ``inscriptis`` (the layout of blocks and tables kept) and its HTML kept only after ``nh3`` has sanitised it; the new text of
a reply is separated from the quoted part and the signature by ``mail-parser-reply``, and the
full text is kept too. Attachments are listed (name, type, size) and never stored.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from typing import Any

import nh3
from inscriptis import get_text
from mailparser_reply import EmailReplyParser

#: Languages whose reply headers ("On ... wrote:") and signatures the reply parser knows.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pt", "sv"]
#: Longest text body kept (characters); longer bodies are cut and marked.
MAX_TEXT = 1_000_000
#: Longest snippet (the start of the new text, one line) shown in timelines.
SNIPPET = 200
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_SPACE = re.compile(r"\s+")


class UnreadableMessage(ValueError):
    """Bytes that are not an email at all (the reason is the message)."""


@dataclass(frozen=True)
class Attachment:
    """An attachment as mentioned in the message; its content is not kept."""

    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ParsedEmail:
    """What one message says, ready for matching and storage."""

    message_id: str | None  # without angle brackets
    subject: str
    from_address: str  # lower-cased address ('' if none)
    from_name: str
    to_addresses: tuple[str, ...]
    cc_addresses: tuple[str, ...]
    sent_at: datetime | None  # UTC
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str  # the whole text body
    reply_text: str  # the new text only (no quoted part, no signature)
    html: str | None  # sanitised HTML body, when the message had one
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)  # the noise headers, lower-case
    size: int = 0
    defects: tuple[str, ...] = ()  # what was repaired while reading
    #: display names of the recipients as written ("Dave Lee" for dave@bloom.example)
    recipient_names: dict[str, str] = field(default_factory=dict)

    @property
    def snippet(self) -> str:
        return _SPACE.sub(" ", self.reply_text or self.text).strip()[:SNIPPET]

    @property
    def thread_key(self) -> str | None:
        """The first message of the thread by RFC headers (References, else In-Reply-To, else
        this message): how messages from mailboxes without Gmail thread ids are threaded."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id


#: Headers that mark bulk or automatic mail (skipped before matching).
NOISE_HEADERS = ("list-unsubscribe", "list-id", "precedence", "auto-submitted", "x-gmail-labels")


def parse_message(raw: bytes) -> ParsedEmail:
    """Parse one message; raises :class:`UnreadableMessage` only when there is no message."""
    if not raw or not raw.strip():
        raise UnreadableMessage("the message is empty")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message.keys() or message.get_payload()):
        raise UnreadableMessage("no headers or body could be read")
    defects: list[str] = [type(d).__name__ for d in message.defects]
    text, html, attachments = _bodies(message, defects)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n[… cut: the message is longer than the CRM keeps]"
    from_name, from_address = _first_address(message, "from")
    return ParsedEmail(
        message_id=_message_id(_header(message, "message-id", defects)),
        subject=_SPACE.sub(" ", _header(message, "subject", defects)).strip(),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_addresses(message, "to"),
        cc_addresses=_addresses(message, "cc"),
        sent_at=_date(_header(message, "date", defects)),
        in_reply_to=_message_id(_header(message, "in-reply-to", defects)),
        references=tuple(_MESSAGE_ID.findall(_header(message, "references", defects))),
        text=text,
        reply_text=new_text(text),
        html=html,
        attachments=tuple(attachments),
        headers={
            name: value for name in NOISE_HEADERS if (value := _header(message, name, defects))
        },
        size=len(raw),
        defects=tuple(dict.fromkeys(defects)),
        recipient_names={
            address: display
            for header in ("cc", "to")
            for display, address in _pairs(message, header)
            if display
        },
    )


def new_text(text: str) -> str:
    """The new text of a reply: without the quoted message and the signature."""
    if not text.strip():
        return ""
    try:
        replies = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text).replies
    except Exception:  # the library's heuristics on odd text: keep the whole text
        return text.strip()
    first = replies[0].body.strip() if replies else ""
    return first or text.strip()


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: blocks on their own lines, tables laid out, scripts and
    styles dropped, link targets left out (the words stay)."""
    lines = (line.strip() for line in get_text(html).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitised_html(html: str) -> str:
    """HTML safe to show in the app: no scripts, handlers, styles that load things, or
    javascript: links (``nh3``, the Rust ammonia sanitiser)."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto"})


def _header(message: Message, name: str, defects: list[str]) -> str:
    try:
        value = message.get(name)
    except Exception as exc:  # a header the parser cannot decode at all
        defects.append(f"{name}: {type(exc).__name__}")
        return ""
    return "" if value is None else str(value)


def _first_address(message: Message, name: str) -> tuple[str, str]:
    pairs = _pairs(message, name)
    return pairs[0] if pairs else ("", "")


def _addresses(message: Message, name: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(address for _, address in _pairs(message, name) if address))


def _pairs(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, lower-cased address) of every address in the header(s) ``name``."""
    values = []
    for value in message.get_all(name, []) or []:
        try:
            values.append(str(value))
        except Exception:
            continue
    pairs = []
    for display, address in email.utils.getaddresses(values):
        address = address.strip().lower()
        if "@" in address:
            pairs.append((display.strip(), address))
    return pairs


def _message_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    if found:
        return found.group(1)
    value = value.strip()
    return value or None


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # RFC 5322's "-0000": the zone is unknown; treat as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _bodies(message: EmailMessage, defects: list[str]) -> tuple[str, str | None, list[Attachment]]:
    """(text, sanitised html, attachments): the preferred text part, else the HTML part as
    text; parts with a filename or an attachment disposition are listed, not read."""
    plain: str | None = None
    html: str | None = None
    attachments: list[Attachment] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        filename = _filename(part)
        if filename or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append(Attachment(filename or "(unnamed)", content_type, len(payload)))
            continue
        if content_type == "text/plain" and plain is None:
            plain = _decoded(part, defects)
        elif content_type == "text/html" and html is None:
            html = _decoded(part, defects)
        elif content_type == "text/calendar":
            attachments.append(Attachment("invite.ics", content_type, len(part.as_bytes())))
    if plain is None and html is not None:
        plain = html_to_text(html)
    return (plain or "").replace("\r\n", "\n"), sanitised_html(html) if html else None, attachments


def _filename(part: Message) -> str:
    try:
        return str(part.get_filename() or "")
    except Exception:
        return ""


def _decoded(part: Message, defects: list[str]) -> str:
    """A text part as str, whatever its charset claims."""
    try:
        content: Any = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except (LookupError, UnicodeError, AssertionError, KeyError, ValueError) as exc:
        defects.append(f"charset: {type(exc).__name__}")
    raw = part.get_payload(decode=True) or b""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        defects.append("charset: not UTF-8, read as Latin-1")
        return raw.decode("latin-1")
