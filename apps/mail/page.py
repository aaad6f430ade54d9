"""The email page, ``/email``: the queue of proposals (mail that matches an investor only by
domain) to approve or reject, one or many at a time, and, at ``/email?thread=<id>``, one thread
to read.

The queue filters by status, team member and confidence. Tick rows (or click one and press
``a`` to approve, ``r`` to reject); "Approve and add people" also adds each correspondent the
team wrote to as a person of that investor, so their next mail links by itself. Every decision
is one service call (:func:`crm_lib.services.decide_proposals`), remembered: a rejected domain
is not proposed for that investor again.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from apps.chrome import UserPage, read_only_table, set_choices, table_frame
from apps.formatting import PERCENT, PLAIN, WHEN, Show, browser_zone, plural, when_html
from apps.links import url_int
from apps.markup import escape_text, link_formatter
from crm_lib import services

COLUMNS = {
    "sent_at": "Date",
    "investor_name": "Investor",
    "address": "From / to",
    "evidence": "Why",
    "confidence": "Confidence",
    "subject": "Subject",
    "snippet": "Snippet",
    "team_member": "Team member",
    "investor_id": "Record",
}
SHOWS: dict[str, Show] = {
    "sent_at": WHEN,
    "confidence": PERCENT,
    "investor_id": PLAIN,
}
PAGE_SIZE = 100
CONFIDENCE = {"Any confidence": 0.0, "50% or more": 0.5, "75% or more": 0.75}
#: The team member filter's "everyone" (Select shows a None value as blank).
EVERYONE = 0
STATUS = {"Waiting for review": "pending", "Approved": "approved", "Rejected": "rejected"}
#: The investor column opens its record.
INVESTOR_LINK = link_formatter("/record?id={}", "open ↗")
THREAD_CSS = """
.crm-mail { border: 1px solid var(--crm-color-border); border-radius: var(--crm-radius-md);
  padding: var(--crm-space-3); margin-bottom: var(--crm-space-3);
  background: var(--crm-color-surface); }
.crm-mail-head { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm);
  margin-bottom: var(--crm-space-2); }
.crm-mail-body { white-space: pre-wrap; font-family: var(--crm-font-family);
  margin: 0; }
.crm-mail-hidden { color: var(--crm-color-text-muted); font-style: italic; }
"""


class DecisionKeys(pn.custom.JSComponent):
    """``a`` approves and ``r`` rejects the ticked proposals (not while typing in a box)."""

    key = param.String(default="")
    presses = param.Integer(default=0)

    _esm = """
    export function render({ model }) {
      function onKey(event) {
        const target = event.composedPath()[0];
        const typing = target && (target.isContentEditable ||
          ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
        if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
        if (event.key === "a" || event.key === "r") {
          model.key = event.key;
          model.presses = model.presses + 1;
        }
      }
      document.addEventListener("keydown", onKey);
      model.on("remove", () => document.removeEventListener("keydown", onKey));
      return document.createElement("span");
    }
    """


class EmailPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.thread_id = url_int("thread")
        #: one investor's proposals (``/email?investor=<id>``, linked from its record)
        self.investor_id = url_int("investor")
        self.all_button = pn.widgets.Button(
            label="Show every investor's", visible=self.investor_id is not None
        )
        self.all_button.on_click(lambda _: self.show_all())
        self.page = 1
        self.rows: list[dict[str, Any]] = []
        self.status_choice = pn.widgets.Select(label="Show", options=STATUS, width=200)
        self.member_choice = pn.widgets.Select(label="Team member", options={}, width=200)
        self.confidence_choice = pn.widgets.Select(
            label="Confidence", options=CONFIDENCE, width=180
        )
        self.table = read_only_table(
            COLUMNS,
            SHOWS,
            empty="Nothing waiting. Mail that matches an investor only by its domain shows"
            " here for someone to approve; mail from known people links by itself.",
        )
        self.table.param.update(
            selectable="checkbox",
            formatters={**self.table.formatters, "Record": INVESTOR_LINK},
            height=560,
        )
        self.info = pn.pane.HTML("")
        self.approve_button = pn.widgets.Button(label="Approve (a)", color="primary")
        self.approve_add_button = pn.widgets.Button(label="Approve and add people")
        self.reject_button = pn.widgets.Button(label="Reject (r)", color="danger")
        self.prev_button = pn.widgets.Button(label="◀ Previous")
        self.next_button = pn.widgets.Button(label="Next ▶")
        self.keys = DecisionKeys(height=0, width=0, margin=0)
        self.thread = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[THREAD_CSS])
        self.private_button = pn.widgets.Button(label="Mark private", visible=False)
        self.thread_state: dict[str, Any] | None = None
        self.approve_button.on_click(lambda _: self.decide(approve=True))
        self.approve_add_button.on_click(lambda _: self.decide(approve=True, add_person=True))
        self.reject_button.on_click(lambda _: self.decide(approve=False))
        self.prev_button.on_click(lambda _: self.go(self.page - 1))
        self.next_button.on_click(lambda _: self.go(self.page + 1))
        self.private_button.on_click(lambda _: self.toggle_private())
        self.keys.param.watch(lambda _: self._key(), "presses")
        for widget in (self.status_choice, self.member_choice, self.confidence_choice):
            widget.param.watch(lambda _: self.go(1), "value")
        if self.thread_id is not None:
            self.show_thread()
        else:
            self._load_members()
            self.go(1)

    # -- the queue --------------------------------------------------------------------------
    def _load_members(self) -> None:
        users = self.act(lambda ctx: services.list_users(ctx))
        if users is not None:
            set_choices(
                self.member_choice,
                {"Everyone": EVERYONE, **{u["name"] or u["email"]: u["id"] for u in users}},
            )
            self.member_choice.value = EVERYONE

    def go(self, page: int) -> None:
        status = self.status_choice.value
        member, confidence = self.member_choice.value, self.confidence_choice.value
        loaded = self.act(
            lambda ctx: services.list_proposals(
                ctx,
                status=status,
                team_member_id=member or None,
                investor_id=self.investor_id,
                min_confidence=confidence or None,
                limit=PAGE_SIZE,
                offset=(max(1, page) - 1) * PAGE_SIZE,
            )
        )
        if loaded is None:
            return
        total = loaded["total"]
        pages = max(1, -(-total // PAGE_SIZE))
        self.page = max(1, min(page, pages))
        self.rows = loaded["proposals"]
        shown = [{**r, "subject": r["subject"] or "(not shared)"} for r in self.rows]
        self.table.value = table_frame(shown, COLUMNS, SHOWS, zone=browser_zone())
        self.table.selection = []
        waiting = "waiting for review" if status == "pending" else status
        scope = ""
        if self.investor_id is not None:
            name = self.rows[0]["investor_name"] if self.rows else f"investor {self.investor_id}"
            scope = f" for {escape_text(name)}"
        self.info.object = (
            f"<b>{escape_text(plural(total, 'proposal'))}</b> {waiting}{scope} · page"
            f" {self.page:,} of {pages:,}"
        )
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= pages
        deciding = status == "pending"
        for button in (self.approve_button, self.approve_add_button, self.reject_button):
            button.disabled = not deciding

    def show_all(self) -> None:
        """Drop the one-investor filter of the URL."""
        self.investor_id = None
        self.all_button.visible = False
        self.go(1)

    def chosen(self) -> list[int]:
        return [int(self.rows[i]["id"]) for i in self.table.selection if i < len(self.rows)]

    def decide(self, *, approve: bool, add_person: bool = False) -> None:
        ids = self.chosen()
        if not ids:
            self._report("Tick the proposals to decide first.", failed=True)
            return
        done = self.act(
            lambda ctx: services.decide_proposals(ctx, ids, approve=approve, add_person=add_person)
        )
        if done is None:
            return
        if approve:
            added = (
                f"; {plural(done['people_added'], 'person', 'people')} added" if add_person else ""
            )
            self._report(f"Approved {plural(done['approved'], 'proposal')}{added}.", failed=False)
        else:
            self._report(
                f"Rejected {plural(done['rejected'], 'proposal')}: their domains are not"
                " proposed for those investors again.",
                failed=False,
            )
        self.go(self.page)

    def _key(self) -> None:
        if self.thread_id is None and self.chosen():
            self.decide(approve=self.keys.key == "a")

    # -- one thread -------------------------------------------------------------------------
    def show_thread(self) -> None:
        thread_id = self.thread_id
        thread = self.act(lambda ctx: services.email_thread(ctx, thread_id))
        if thread is None:
            self.thread.object = (
                "<p>This thread is not there: it may be private, or its investor archived."
                " <a href='/email'>Back to the email page</a></p>"
            )
            return
        self.thread_state = thread
        zone = browser_zone()
        parts = [
            f"<p><a href='/email'>← Email</a></p><h2>{escape_text(thread['subject'] or '(subject not shared)')}</h2>"
        ]
        for message in thread["messages"]:
            sender = message["from_name"] or message["from_address"]
            to = ", ".join(message["to_addresses"])
            address = (
                f" &lt;{escape_text(message['from_address'])}&gt;" if message["from_name"] else ""
            )
            head = f"<b>{escape_text(sender)}</b>{address} to {escape_text(to)} · " + (
                when_html(message["sent_at"], zone=zone) if message["sent_at"] else "no date"
            )
            if message["visibility"] == "everything":
                body = f"<pre class='crm-mail-body'>{escape_text(message['body_text'])}</pre>"
                attached = message.get("attachments") or []
                if attached:
                    names = ", ".join(escape_text(a["filename"]) for a in attached)
                    body += f"<p class='crm-mail-head'>Attachments (not stored): {names}</p>"
            else:
                body = (
                    "<p class='crm-mail-hidden'>Its mailbox shares "
                    + (
                        "the subject only"
                        if message["visibility"] == "subject"
                        else "who and when only"
                    )
                    + ".</p>"
                )
            parts.append(
                f"<div class='crm-mail'><div class='crm-mail-head'>{head}</div>{body}</div>"
            )
        self.thread.object = "".join(parts)
        self.private_button.param.update(
            visible=True, label="Share again" if thread["private"] else "Mark private"
        )

    def toggle_private(self) -> None:
        if self.thread_state is None:
            return
        private = not self.thread_state["private"]
        thread_id = self.thread_id
        done = self.act(
            lambda ctx: services.set_thread_private(ctx, thread_id, private),
            success="Only you see this thread now." if private else "The team sees it again.",
        )
        if done is not None:
            self.show_thread()

    def __panel__(self) -> pn.viewable.Viewable:
        if self.thread_id is not None:
            return self.frame("/email", "Email thread", self.private_button, self.thread)
        return self.frame(
            "/email",
            "Email",
            pn.pane.Markdown(
                "Mail that matches an investor only by its domain waits here. Approve it to put"
                " it on the investor's record, or reject it (that domain is then not proposed for"
                " that investor again). Tick rows, then press **a** or **r**."
            ),
            pn.Row(self.status_choice, self.member_choice, self.confidence_choice, self.all_button),
            pn.Row(
                self.approve_button,
                self.approve_add_button,
                self.reject_button,
                pn.layout.HSpacer(),
                self.info,
                self.prev_button,
                self.next_button,
            ),
            self.table,
            self.keys,
        )
