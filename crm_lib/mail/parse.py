"""One raw RFC 5322 message (Gmail's ``format=raw``, an mbox entry, an ``.eml`` file) as the
facts the CRM keeps: who, to whom, when, the subject, the text, the new text of a reply, the
thread it belongs to, and the attachments it mentions.

Parsing is the standard library's ``email`` package. Its structure (multipart/alternative,
transfer encodings) is read with the ``compat32`` policy and headers are decoded with
:mod:`email.header` (RFC 2047) and :func:`email.utils.getaddresses`: ``policy.default``'s header
registry reads the same headers at a sixth of the speed (measured: 387 against 2,300 messages/s
for the whole of :func:`parse_message`), and a first sync reads a year of mail. Real mail is
messier than the RFCs, so every step
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
from email.header import decode_header
from email.message import Message

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
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    if not (message.keys() or message.get_payload()):
        raise UnreadableMessage("no headers or body could be read")
    defects: list[str] = [type(d).__name__ for d in message.defects]
    text, html, attachments = _bodies(message, defects)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "\n[… cut: the message is longer than the CRM keeps]"
    from_name, from_address = _first_address(message, "from", defects)
    recipients = [*_pairs(message, "to", defects), *_pairs(message, "cc", defects)]
    return ParsedEmail(
        message_id=_message_id(_raw_header(message, "message-id")),
        subject=_SPACE.sub(" ", _header(message, "subject", defects)).strip(),
        from_address=from_address,
        from_name=from_name,
        to_addresses=_addresses(message, "to", defects),
        cc_addresses=_addresses(message, "cc", defects),
        sent_at=_date(_raw_header(message, "date")),
        in_reply_to=_message_id(_raw_header(message, "in-reply-to")),
        references=tuple(_MESSAGE_ID.findall(_raw_header(message, "references"))),
        text=text,
        reply_text=new_text(text),
        html=html,
        attachments=tuple(attachments),
        headers={
            name: value for name in NOISE_HEADERS if (value := _header(message, name, defects))
        },
        size=len(raw),
        defects=tuple(dict.fromkeys(defects)),
        recipient_names={address: name for name, address in reversed(recipients) if name},
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


def _raw_values(message: Message, name: str, defects: list[str]) -> list[str]:
    """Every value of header ``name`` as written. Raw 8-bit bytes (UTF-8 headers sent without
    RFC 2047, common in real mail) are read as UTF-8, else Latin-1, and recorded."""
    values = []
    for key, value in message.raw_items():
        if key.lower() != name:
            continue
        text = str(value)
        if any("\udc80" <= c <= "\udcff" for c in text):
            raw = text.encode("utf-8", "surrogateescape")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
            defects.append(f"{name}: 8-bit header")
        values.append(text)
    return values


def _raw_header(message: Message, name: str) -> str:
    """A header as written (ids and dates are ASCII by the RFCs)."""
    values = _raw_values(message, name, [])
    return values[0] if values else ""


def _header(message: Message, name: str, defects: list[str]) -> str:
    """A header as text: RFC 2047 encoded words decoded, whatever charset they claim."""
    values = _raw_values(message, name, defects)
    return decoded_words(values[0], defects, name) if values else ""


def decoded_words(value: str, defects: list[str], name: str = "header") -> str:
    """Text of a header value with RFC 2047 encoded words (and raw 8-bit bytes) decoded; an
    unknown or lying charset falls back to UTF-8 with replacement characters."""
    text = str(value)
    if "=?" not in text:
        return text
    try:
        chunks = decode_header(text)
    except Exception:
        defects.append(f"{name}: undecodable encoded words")
        return text
    parts = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
            continue
        if charset is None:  # text around the encoded words, as decode_header encoded it
            parts.append(chunk.decode("raw-unicode-escape"))
            continue
        try:
            parts.append(chunk.decode(charset))
        except (LookupError, UnicodeDecodeError):
            defects.append(f"{name}: charset {charset!r}")
            parts.append(chunk.decode("utf-8", "replace"))
    return "".join(parts)


def _first_address(message: Message, name: str, defects: list[str]) -> tuple[str, str]:
    pairs = _pairs(message, name, defects)
    return pairs[0] if pairs else ("", "")


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(address for _, address in _pairs(message, name, defects)))


def _pairs(message: Message, name: str, defects: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) of every address in the header(s) ``name``: the
    addresses are split first, then each display name decoded (a decoded name may hold the
    comma that would otherwise split it)."""
    values = _raw_values(message, name, defects)
    pairs = []
    for display, address in email.utils.getaddresses(values):
        address = address.strip().lower()
        if "@" in address:
            pairs.append((decoded_words(display, defects, name).strip(), address))
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


def _bodies(message: Message, defects: list[str]) -> tuple[str, str | None, list[Attachment]]:
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
        return decoded_words(part.get_filename() or "", [], "filename")
    except Exception:
        return ""


def _decoded(part: Message, defects: list[str]) -> str:
    """A text part as str, whatever its charset claims: the declared charset, else UTF-8,
    else Latin-1 (which reads any bytes), each fallback recorded."""
    raw = part.get_payload(decode=True) or b""
    if not isinstance(raw, bytes):
        raw = str(raw).encode("utf-8", "surrogateescape")
    charset = part.get_content_charset()
    if charset:
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError) as exc:
            defects.append(f"charset: {type(exc).__name__} ({charset})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        defects.append("charset: not UTF-8, read as Latin-1")
        return raw.decode("latin-1")
