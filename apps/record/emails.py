"""The record page's Emails tab: the investor's email timeline across all its people, grouped
by thread, newest first: direction, team member, person, subject, snippet and date of each
message, each thread opening on the email page (``/email?thread=<id>``) to be read, and a
"+ Task" link making a follow-up task of it (the tasks page, its form filled in).

The timeline is read when the tab is first opened (most visits to a record never open it), and
again when the record is reloaded. What each reader sees of a message is the service's decision
(sharing levels, private threads); this only draws it, every value escaped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from apps.formatting import plural, when_html
from apps.markup import escape_text

PAGE = 30
TIMELINE_CSS = """
.crm-thread { border: 1px solid var(--crm-color-border); border-radius: var(--crm-radius-md);
  padding: var(--crm-space-2) var(--crm-space-3); margin-bottom: var(--crm-space-2);
  background: var(--crm-color-surface); }
.crm-thread-head { display: flex; gap: var(--crm-space-2); align-items: baseline; }
.crm-thread-head a { font-weight: 600; color: var(--crm-color-text); text-decoration: none; }
.crm-thread-head a:hover { text-decoration: underline; }
.crm-thread-count, .crm-message-meta { color: var(--crm-color-text-muted);
  font-size: var(--crm-font-size-xs); }
.crm-message { padding: 2px 0 2px var(--crm-space-3); }
.crm-direction { display: inline-block; min-width: 4.5em; font-size: var(--crm-font-size-xs);
  font-weight: 600; }
.crm-direction.in { color: var(--crm-color-success-text); }
.crm-direction.out { color: var(--crm-color-primary); }
.crm-snippet { color: var(--crm-color-text-muted); }
.crm-empty { color: var(--crm-color-text-muted); }
.crm-thread-head a.crm-thread-task { margin-left: auto; font-weight: normal;
  font-size: var(--crm-font-size-xs); color: var(--crm-color-primary-text); }
"""


class EmailTimeline:
    """The Emails tab of one record page."""

    def __init__(self, load: Callable[[int, int], dict[str, Any] | None]) -> None:
        #: (limit, offset) -> the service's timeline, or None when reading failed (the page
        #: says why)
        self._load = load
        self.shown = 0
        self.loaded = False
        self.zone: str | None = None
        self.investor_id: int | None = None
        self.threads: list[dict[str, Any]] = []
        self.list = pn.pane.HTML(
            "", sizing_mode="stretch_width", stylesheets=[TIMELINE_CSS], css_classes=["crm-emails"]
        )
        self.more_button = pn.widgets.Button(label="Show older threads", visible=False)
        self.more_button.on_click(lambda _: self.more())
        self.layout = pn.Column(self.list, self.more_button, sizing_mode="stretch_width")

    def refresh(self, zone: str | None = None) -> None:
        """Read the first page of threads again (after a reload of the record)."""
        self.zone = zone
        self.threads = []
        self.shown = 0
        self.more()

    def more(self) -> None:
        timeline = self._load(PAGE, self.shown)
        if timeline is None:
            return
        self.loaded = True
        self.investor_id = timeline["investor_id"]
        self.threads += timeline["threads"]
        self.shown = len(self.threads)
        self.more_button.visible = self.shown < timeline["threads_total"]
        self.list.object = self._html(timeline["emails"], timeline["threads_total"])

    def _html(self, emails: int, total: int) -> str:
        if not self.threads:
            return (
                "<p class='crm-empty'>No email with this investor's people yet. Mail is captured"
                " from the team's synced Gmail and imported mailboxes, and linked by each person's"
                " address; mail that matches only by domain waits on the email page for someone"
                " to approve it.</p>" + self._proposals_link()
            )
        parts = [
            f"<p class='crm-thread-count'>{escape_text(plural(emails, 'email'))} in"
            f" {escape_text(plural(total, 'thread'))}, newest first</p>"
        ]
        if self.investor_id is not None:
            parts.append(self._proposals_link())
        for thread in self.threads:
            messages = thread["messages"]
            subject = thread["subject"] or "(subject not shared)"
            parts.append(
                "<div class='crm-thread'><div class='crm-thread-head'>"
                f"<a href='/email?thread={int(thread['thread_id'])}'>{escape_text(subject)}</a>"
                f"<span class='crm-thread-count'>{escape_text(plural(len(messages), 'message'))}"
                f" · {when_html(thread['last_at'], zone=self.zone) if thread['last_at'] else ''}"
                "</span>"
                f"{self._task_link(int(thread['thread_id']))}</div>"
            )
            for message in messages[:5]:
                parts.append(self._message_html(message))
            if len(messages) > 5:
                parts.append(
                    f"<div class='crm-message crm-message-meta'>and {len(messages) - 5:,} earlier"
                    " messages in this thread</div>"
                )
            parts.append("</div>")
        return "".join(parts)

    def _task_link(self, thread_id: int) -> str:
        """A follow-up task from this thread: the tasks page with the form filled in."""
        if self.investor_id is None:
            return ""
        href = f"/tasks?investor={int(self.investor_id)}&thread={thread_id}"
        return f"<a class='crm-thread-task' href='{href}'>+ Task</a>"

    def _proposals_link(self) -> str:
        return (
            f"<p class='crm-thread-count'><a href='/email?investor={int(self.investor_id or 0)}'>"
            "Mail that may concern this investor, waiting for review →</a></p>"
        )

    def _message_html(self, message: dict[str, Any]) -> str:
        inbound = message["direction"] == "inbound"
        arrow = (
            "<span class='crm-direction in'>← in</span>"
            if inbound
            else ("<span class='crm-direction out'>→ out</span>")
        )
        team = message.get("team_member") or "someone on the team"
        other = message.get("person") or message.get("from_address") or ""
        who = f"{other} to {team}" if inbound else f"{team} to {other}"
        when = when_html(message["sent_at"], zone=self.zone) if message.get("sent_at") else ""
        snippet = message.get("snippet") or ""
        return (
            f"<div class='crm-message'>{arrow} <span class='crm-message-meta'>"
            f"{escape_text(who)} · {when}</span>"
            + (f"<div class='crm-snippet'>{escape_text(snippet)}</div>" if snippet else "")
            + "</div>"
        )
