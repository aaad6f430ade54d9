"""Activity events as HTML: the sentences the library builds, with the investor linked to its
record, the values styled (each piece in a ``crm-part-<role>`` span: actor, field, old, new...),
and when it happened ("3 minutes ago", the exact time on hover).

The activity page groups them by day; the home page shows the latest few. Every piece of text
comes from people (names, labels, file names) and goes through :func:`apps.markup.escape_text`;
only the tags written here are markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.formatting import when_html
from apps.links import record_url
from apps.markup import escape_text

#: The feed's look, from the design tokens (apps/theme/tokens.css) only.
FEED_CSS = """
:host { display: block; }
.crm-feed { font-size: var(--crm-font-size-md); line-height: var(--crm-line-height);
  color: var(--crm-color-text); }
.crm-day { margin-bottom: var(--crm-space-3); }
.crm-day-heading { font-size: var(--crm-font-size-xs); font-weight: var(--crm-font-weight-bold);
  text-transform: uppercase; letter-spacing: .05em; color: var(--crm-color-text-muted);
  margin: var(--crm-space-4) 0 var(--crm-space-1); }
.crm-events { list-style: none; margin: 0; padding: 0; }
.crm-event { padding: 6px var(--crm-space-1); border-bottom: 1px solid var(--crm-color-border);
  overflow-wrap: anywhere; }
.crm-part-actor, .crm-part-field { font-weight: var(--crm-font-weight-bold); }
.crm-part-old { color: var(--crm-color-text-muted); }
.crm-part-new { font-weight: var(--crm-font-weight-medium); }
.crm-part-file, .crm-part-fund, .crm-part-person, .crm-part-view, .crm-part-job,
.crm-part-list { font-weight: var(--crm-font-weight-medium); }
.crm-part-failed, .crm-archived { color: var(--crm-color-danger-text); }
.crm-archived { font-size: var(--crm-font-size-xs); }
.crm-event-when, .crm-event-when time { color: var(--crm-color-text-subtle); white-space: nowrap; }
.crm-feed a { color: var(--crm-color-primary-text); text-decoration: none; }
.crm-feed a:hover { text-decoration: underline; }
.crm-feed a:focus-visible { outline: var(--crm-focus-outline); border-radius: var(--crm-radius-sm); }
.crm-empty { padding: var(--crm-space-4); border: 1px dashed var(--crm-color-border-strong);
  border-radius: var(--crm-radius-lg); color: var(--crm-color-text);
  background: var(--crm-color-surface-muted); }
.crm-empty a { color: var(--crm-color-primary-text); }
"""


def _part_html(part: Mapping[str, Any]) -> str:
    text = escape_text(part.get("text"))
    role = str(part.get("role") or "text")
    if role == "investor" and part.get("investor_id") is not None:
        href = escape_text(record_url(int(part["investor_id"])))
        badge = ' <span class="crm-archived">(archived)</span>' if part.get("archived") else ""
        return f'<a class="crm-investor" href="{href}">{text}</a>{badge}'
    if role == "subject" and part.get("thread_id") is not None:  # an email: its thread
        return (
            f'<a class="crm-part-subject" href="/email?thread={int(part["thread_id"])}">{text}</a>'
        )
    if role == "question" and part.get("question"):  # asked on the Ask page: ask it again
        href = escape_text("/ask?" + urlencode({"q": str(part["question"])}))
        return f'<a class="crm-part-question" href="{href}">{text}</a>'
    if role == "text":
        return text
    return f'<span class="crm-part-{escape_text(role)}">{text}</span>'


def event_html(event: Mapping[str, Any], *, zone: str | None, now: datetime) -> str:
    """One event as a list item: its sentence, then " · 3 minutes ago"."""
    sentence = "".join(_part_html(part) for part in event.get("parts") or [])
    moment = when_html(event.get("at"), zone=zone, now=now)
    when = f'<span class="crm-event-when"> · {moment}</span>' if moment else ""
    kind = escape_text(event.get("kind"))
    return f'<li class="crm-event crm-event-{kind}">{sentence}{when}</li>'


def events_html(events: Iterable[Mapping[str, Any]], *, zone: str | None, now: datetime) -> str:
    """Events as one list, newest first, no day headings (the home page's latest few)."""
    items = "".join(event_html(event, zone=zone, now=now) for event in events)
    return f'<div class="crm-feed"><ul class="crm-events">{items}</ul></div>'


def local_zone(zone: str | None) -> tzinfo:
    """The user's timezone (UTC when the browser has not said, or said something unknown)."""
    if zone:
        try:
            return ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC


def day_heading(day: date, today: date) -> str:
    """ "Today", "Yesterday", else the weekday and date ("Monday, Nov 23"; the year too when it
    is not this year's)."""
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    heading = f"{day:%A}, {day:%b} {day.day}"
    return heading if day.year == today.year else f"{heading}, {day.year}"


def feed_html(events: Iterable[Mapping[str, Any]], *, zone: str | None, now: datetime) -> str:
    """Events grouped by the day they happened in the user's timezone, newest first, each day
    under its heading."""
    local = local_zone(zone)
    today = now.astimezone(local).date()
    sections: list[str] = []
    current: date | None = None
    items: list[str] = []

    def close() -> None:
        if current is not None:
            heading = escape_text(day_heading(current, today))
            sections.append(
                f'<section class="crm-day"><h3 class="crm-day-heading">{heading}</h3>'
                f'<ul class="crm-events">{"".join(items)}</ul></section>'
            )

    for event in events:
        day = _day(event.get("at"), local)
        if day != current:
            close()
            current, items = day, []
        items.append(event_html(event, zone=zone, now=now))
    close()
    return f'<div class="crm-feed">{"".join(sections)}</div>'


def _day(at: Any, local: tzinfo) -> date | None:
    """The local day of a stored timestamp (None if it is not one: such events group apart)."""
    try:
        moment = datetime.fromisoformat(str(at))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(local).date()


def empty_html(message: str, link: tuple[str, str] | None = None) -> str:
    """An empty state: what is (not) here and what to do, with an optional (href, label) link.
    ``message`` is our own text; it is escaped all the same."""
    action = ""
    if link is not None:
        action = f' <a href="{escape_text(link[0])}">{escape_text(link[1])}</a>'
    return (
        f'<div class="crm-feed"><div class="crm-empty">{escape_text(message)}{action}</div></div>'
    )
