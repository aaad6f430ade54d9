"""The digest as HTML and as plain text, from Jinja2 templates (``templates/``).

The HTML template autoescapes everything: investor names, subjects, email text and the model's
narrative are all untrusted. The text template has no markup to escape, but each value is put
on one line (:func:`one_line`) so a name holding line breaks cannot forge lines of the digest.
Links point at the CRM's public address (``CRM_PUBLIC_URL``).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from crm_lib.digest.build import Digest

TEMPLATES = Path(__file__).parent / "templates"
#: A team member's sent or received list shows at most this many messages, and the table by
#: investor this many investors (most mail first): the digest stays readable, and under the size
#: at which mail clients clip a message, on the busiest day.
LIST_CAP = 25
INVESTOR_CAP = 100


def one_line(value: Any) -> str:
    """``value`` as text with every run of whitespace (line breaks included) one space."""
    return " ".join(str(value if value is not None else "").split())


def record_link(base: str, investor_id: int) -> str:
    """An investor's record in the CRM (the same address as ``apps.links.record_url``)."""
    return f"{base}/record?{urlencode({'id': int(investor_id)})}"


def thread_link(base: str, thread_id: int) -> str:
    """A thread on the CRM's email page."""
    return f"{base}/email?{urlencode({'thread': int(thread_id)})}"


def _money(amount: float | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{one_line(currency)} {amount:,.0f}"


def _environment(*, html: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]) if html else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["one_line"] = one_line
    env.filters["money"] = _money
    return env


_HTML = _environment(html=True)
_TEXT = _environment(html=False)


def _context(digest: Digest) -> dict[str, Any]:
    zone: tzinfo = digest.zone

    def local(moment: str | datetime, fmt: str = "%a %H:%M") -> str:
        when = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
        return when.astimezone(zone).strftime(fmt)

    def day(moment: datetime) -> str:
        when = moment.astimezone(zone)
        return f"{when:%a} {when.day} {when:%b %Y} {when:%H:%M}"

    return {
        "d": digest,
        "local": local,
        "day": day,
        "zone_name": str(zone),
        "list_cap": LIST_CAP,
        "investor_cap": INVESTOR_CAP,
        "record": lambda investor_id: record_link(digest.base_url, investor_id),
        "thread": lambda thread_id: thread_link(digest.base_url, thread_id),
    }


def render_html(digest: Digest) -> str:
    """The digest as an HTML email body: one style sheet in its head (Gmail, Apple Mail and
    Outlook read it) rather than styles on every element, which kept the busiest day over the
    102 KB at which Gmail clips a message."""
    return _HTML.get_template("digest.html").render(_context(digest))


def render_text(digest: Digest) -> str:
    """The digest as plain text (the alternative part of the email, and the CLI's preview)."""
    return _TEXT.get_template("digest.txt").render(_context(digest))
