"""The home page: the team's figures at a glance, each a link to the rows behind it.

What is committed (the graveyard's part apart), each fund against its target, investors per list
(each opens that list in the grid), what needs attention (each opens the grid filtered to those
investors, see ``services.attention``), the latest activity and the largest investors (each opens
its record). Read-only: the grid is where things change. One HTML pane per section: each Bokeh
model costs a new session time, and links need no widgets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import panel as pn
from panel.viewable import Viewer

from apps.activity.render import FEED_CSS, events_html
from apps.auth.live import OpenPages
from apps.auth.provider import PageSession, current_session
from apps.chrome import nav_counts
from apps.formatting import browser_zone, money, percent, plural
from apps.home.store import TASKS_SHOWN, HomeStore
from apps.links import grid_url, record_url
from apps.markup import escape_text
from apps.runtime import Runtime
from apps.shell import shell
from crm_lib.auth.permissions import allowed
from crm_lib.errors import CRMError

#: The home page's look, from the design tokens (apps/theme/tokens.css) only.
HOME_CSS = """
:host { display: block; }
.crm-home { color: var(--crm-color-text); font-size: var(--crm-font-size-md);
  line-height: var(--crm-line-height); }
.crm-home h2 { font-size: var(--crm-font-size-lg); font-weight: var(--crm-font-weight-bold);
  margin: var(--crm-space-3) 0 var(--crm-space-2); }
.crm-home a { color: var(--crm-color-primary-text); text-decoration: none; }
.crm-home a:hover { text-decoration: underline; }
.crm-home a:focus-visible { outline: var(--crm-focus-outline); border-radius: var(--crm-radius-sm); }
.crm-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr));
  gap: var(--crm-space-2); }
.crm-card { display: block; border: 1px solid var(--crm-color-border);
  border-radius: var(--crm-radius-lg); padding: var(--crm-space-2) var(--crm-space-3);
  background: var(--crm-color-surface); min-width: 0; box-shadow: var(--crm-shadow-sm); }
.crm-home a.crm-card { color: var(--crm-color-text); }
.crm-home a.crm-card:hover { border-color: var(--crm-color-primary); text-decoration: none;
  background: var(--crm-color-primary-subtle); }
.crm-card-label { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-card-value { font-size: var(--crm-font-size-xl); font-weight: var(--crm-font-weight-bold);
  white-space: nowrap; }
.crm-card-note, .crm-muted { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-fund { border: 1px solid var(--crm-color-border); border-radius: var(--crm-radius-lg);
  padding: var(--crm-space-2) var(--crm-space-3); margin-bottom: var(--crm-space-2);
  background: var(--crm-color-surface); }
.crm-fund-name { font-weight: var(--crm-font-weight-bold); overflow-wrap: anywhere; }
.crm-progress { height: 8px; border-radius: var(--crm-radius-pill);
  background: var(--crm-color-surface-muted); margin: 6px 0; overflow: hidden; }
.crm-progress-bar { height: 100%; background: var(--crm-color-success); }
.crm-attention-item { border-left: 3px solid var(--crm-color-warning);
  padding: var(--crm-space-1) var(--crm-space-3); margin-bottom: var(--crm-space-3);
  overflow-wrap: anywhere; }
.crm-attention-title { font-weight: var(--crm-font-weight-bold); }
.crm-count { display: inline-block; min-width: 22px; padding: 0 7px;
  border-radius: var(--crm-radius-pill); background: var(--crm-color-warning-subtle);
  color: var(--crm-color-warning-text); font-size: var(--crm-font-size-xs);
  font-weight: var(--crm-font-weight-bold); text-align: center; }
.crm-top { margin: 0; padding-left: var(--crm-space-5); }
.crm-top li { padding: 3px 0; overflow-wrap: anywhere; }
.crm-all-clear { color: var(--crm-color-success-text); }
.crm-count-danger { background: var(--crm-color-danger-subtle); color: var(--crm-color-danger-text); }
.crm-late { color: var(--crm-color-danger-text); font-weight: var(--crm-font-weight-bold); }
"""


class HomePage(Viewer):
    """Read-only overview; the editable grid is its own page."""

    def __init__(
        self,
        runtime: Runtime,
        pages: OpenPages | None = None,
        session: PageSession | None = None,
        **params: object,
    ) -> None:
        super().__init__(**params)
        self.runtime = runtime
        self.store = HomeStore()
        self.session = session or current_session()
        if self.session is not None and pages is not None:
            pages.register(self.session.session.session_id)
        with runtime.context("system:web") as ctx:
            self.store.load(ctx)
        if self.session is not None:
            try:
                with runtime.user_context(self.session.token) as ctx:
                    self.store.load_mine(ctx, runtime.settings.going_cold_days)
            except CRMError:  # the session ended meanwhile: the page still shows the team's
                pass
        role = self.session.user["role"] if self.session is not None else None
        self.may_open_funds = role is not None and allowed(role, "manage_funds")
        zone, now = browser_zone(), runtime.clock.now()
        self.totals = self._pane(self._totals_html(), "crm-totals")
        self.lists = self._pane(self._lists_html(), "crm-list-counts")
        self.funds = self._pane(self._funds_html(), "crm-funds")
        self.attention = self._pane(self._attention_html(), "crm-attention")
        self.recent = self._pane(self._recent_html(zone, now), "crm-recent")
        self.top = self._pane(self._top_html(), "crm-top-investors")
        self.tasks = self._pane(self._tasks_html(), "crm-home-tasks")
        self.cold = self._pane(self._cold_html(), "crm-going-cold")
        self.notices = self._pane(self._notices_html(), "crm-notices")

    @staticmethod
    def _pane(html: str, css_class: str) -> pn.pane.HTML:
        return pn.pane.HTML(
            f'<div class="crm-home">{html}</div>',
            css_classes=[css_class],
            stylesheets=[HOME_CSS, FEED_CSS],
            sizing_mode="stretch_width",
        )

    # -- sections ----------------------------------------------------------------------------
    def _totals_html(self) -> str:
        store = self.store
        cards = [
            _card(
                "Total committed (excluding graveyard)",
                money(store.committed),
                "Live commitments of investors on every list but the graveyard",
            ),
            _card(
                "Committed by graveyard investors",
                money(store.committed_graveyard),
                "Shown apart: not in the total",
            ),
            _card(
                "Investors",
                f"{store.list_counts.get('all', 0):,}",
                "Live, on every list",
                href=grid_url(list_key="all"),
            ),
        ]
        return f'<div class="crm-cards">{"".join(cards)}</div>'

    def _lists_html(self) -> str:
        cards = [
            _card(
                row["label"],
                f"{row['investors']:,}",
                f"{money(row['committed'])} committed" if row["committed"] else "",
                href=grid_url(list_key=row["list"]),
            )
            for row in self.store.lists
        ]
        return f'<h2>Investors by list</h2><div class="crm-cards">{"".join(cards)}</div>'

    def _funds_html(self) -> str:
        funds = [self._fund_html(fund) for fund in self.store.funds]
        if not funds:
            hint = (
                ' Add the first one on the <a href="/funds">Funds page</a>.'
                if self.may_open_funds
                else " An admin adds them on the Funds page."
            )
            return f'<h2>Funds</h2><p class="crm-muted">No funds yet.{hint}</p>'
        note = ""
        if not any(fund["target_size"] for fund in self.store.funds):
            note = '<p class="crm-muted">No fund has a target yet: committed amounts only.</p>'
        return "<h2>Committed per fund</h2>" + note + "".join(funds)

    def _fund_html(self, fund: Mapping[str, Any]) -> str:
        currency = fund.get("currency") or "USD"
        name = escape_text(fund["fund"])
        if self.may_open_funds:
            name = f'<a href="/funds">{name}</a>'
        facts = [str(fund["vintage_year"])] if fund.get("vintage_year") else []
        facts += [escape_text(fund.get("status_label") or ""), plural(fund["commitments"], "LP")]

        def amount(value: float) -> str:  # the currency code is typed by an admin: escaped
            return escape_text(money(value, currency))

        committed = amount(fund["committed"])
        if fund.get("target_size"):
            progress = fund["progress"] or 0
            width = max(0.0, min(progress, 1.0)) * 100
            bar = (
                f'<div class="crm-progress" title="{escape_text(percent(progress))} of target">'
                f'<div class="crm-progress-bar" style="width:{width:.1f}%"></div></div>'
            )
            amounts = (
                f"<b>{committed}</b> committed of {amount(fund['target_size'])} target"
                f" · {percent(progress)}"
            )
        else:
            bar = ""
            amounts = f"<b>{committed}</b> committed · no target set"
        soft = ""
        if fund.get("soft_circled"):
            soft = (
                f'<div class="crm-muted">of which {amount(fund["soft_circled"])} soft-circled</div>'
            )
        return (
            f'<div class="crm-fund"><span class="crm-fund-name">{name}</span> '
            f'<span class="crm-muted">{" · ".join(f for f in facts if f)}</span>'
            f"{bar}<div>{amounts}</div>{soft}</div>"
        )

    def _attention_html(self) -> str:
        items = self.store.attention
        if not items:
            return (
                "<h2>Needs attention</h2>"
                '<p class="crm-all-clear">Nothing needs attention: every open conversation was'
                " followed up lately, every active investor has an owner and every commitment"
                " has a date.</p>"
            )
        return "<h2>Needs attention</h2>" + "".join(_attention_item(item) for item in items)

    def _recent_html(self, zone: str | None, now: Any) -> str:
        events = self.store.recent
        link = '<p><a href="/activity">All activity →</a></p>'
        if not events:
            return (
                "<h2>Recent activity</h2><p class='crm-muted'>Nothing has happened yet. Edit an"
                f' investor on the <a href="{escape_text(grid_url())}">grid</a> and it shows'
                " here.</p>"
            )
        return "<h2>Recent activity</h2>" + events_html(events, zone=zone, now=now) + link

    def _top_html(self) -> str:
        rows = self.store.top_investors
        if not rows:
            return (
                "<h2>Largest investors</h2><p class='crm-muted'>No commitments yet. Enter them"
                " in the grid's fund columns or on an investor's record.</p>"
            )
        items = []
        for row in rows:
            facts = " · ".join(escape_text(v) for v in (row["type"], row["status"]) if v)
            items.append(
                f'<li><a href="{escape_text(record_url(row["id"]))}">{escape_text(row["name"])}'
                f"</a> — <b>{money(row['total_invested'])}</b>"
                + (f' <span class="crm-muted">{facts}</span>' if facts else "")
                + "</li>"
            )
        return f'<h2>Largest investors</h2><ol class="crm-top">{"".join(items)}</ol>'

    def _tasks_html(self) -> str:
        groups = self.store.my_tasks
        if not groups:
            return ""
        overdue, due_today, upcoming = (groups.get(k, []) for k in ("overdue", "today", "upcoming"))
        counts = (
            f'<p><span class="crm-count crm-count-danger">{len(overdue):,}</span> overdue · '
            f'<span class="crm-count">{len(due_today):,}</span> due today · '
            f"{len(upcoming):,} upcoming</p>"
        )
        shown = [*overdue, *due_today, *upcoming][:TASKS_SHOWN]
        if not shown:
            body = '<p class="crm-all-clear">No open tasks.</p>'
        else:
            items = []
            for task in shown:
                due = task.get("due_on")
                late = bool(due) and task in overdue
                when = (
                    f'<span class="{"crm-late" if late else "crm-muted"}">'
                    f"{'overdue since ' if late else 'due '}{escape_text(due)}</span>"
                    if due
                    else '<span class="crm-muted">no due date</span>'
                )
                about = (
                    f' · <a href="{escape_text(record_url(task["investor_id"]))}">'
                    f"{escape_text(task['investor_name'])}</a>"
                    if task.get("investor_id")
                    else ""
                )
                items.append(f"<li>{escape_text(task['title'])}{about} — {when}</li>")
            body = f'<ul class="crm-top">{"".join(items)}</ul>'
        return (
            f"<h2>My tasks</h2>{counts}{body}"
            '<p><a href="/tasks">All my tasks (done with one click or key) →</a></p>'
        )

    def _notices_html(self) -> str:
        """What automation rules told the team, unread, newest first."""
        notices = self.store.notices
        if not notices or not notices["total"]:
            return ""
        items = []
        for notice in notices["rows"]:
            text = escape_text(notice["text"])
            if notice.get("investor_id"):
                text = f'<a href="{escape_text(record_url(notice["investor_id"]))}">{text}</a>'
            rule = escape_text(notice.get("rule_name") or "")
            items.append(f'<li>{text} <span class="crm-muted">{rule}</span></li>')
        more = notices["total"] - len(notices["rows"])
        tail = f'<p class="crm-muted">and {more:,} more</p>' if more > 0 else ""
        return (
            f'<h2>From the automations <span class="crm-count">{notices["total"]:,}</span></h2>'
            f'<ul class="crm-top">{"".join(items)}</ul>{tail}'
        )

    def _cold_html(self) -> str:
        cold = self.store.going_cold
        if not cold:
            return ""
        days = cold["days"]
        whose = "Yours" if self.store.cold_mine else "The team's"
        if not cold["total"]:
            return (
                "<h2>Going cold</h2><p class='crm-all-clear'>Every open opportunity and every"
                f" committed investor had a two-way email in the last {days} days.</p>"
            )
        items = []
        for row in cold["rows"]:
            touch = row["last_touch_at"]
            last = f"last email {escape_text(str(touch)[:10])}" if touch else "no email yet"
            owner = f" · {escape_text(row['owner_name'])}" if row.get("owner_name") else ""
            items.append(
                f'<li><a href="{escape_text(record_url(row["id"]))}">{escape_text(row["name"])}'
                f'</a> <span class="crm-muted">{escape_text(row["reason"])} · {last}{owner}'
                "</span></li>"
            )
        return (
            f'<h2>Going cold <span class="crm-count">{cold["total"]:,}</span></h2>'
            f'<p class="crm-muted">{whose}: open opportunities and committed investors with no'
            f" two-way email in {days} days, the longest silent first.</p>"
            f'<ul class="crm-top">{"".join(items)}</ul>'
            '<p><a href="/pipeline">The pipeline →</a></p>'
        )

    def __panel__(self) -> pn.viewable.Viewable:
        title = pn.pane.Markdown(
            "# Home\nThe fundraise at a glance: what is committed, where each fund stands, and"
            " who needs the team next.",
            css_classes=["crm-page-title"],
        )
        if not self.store.list_counts.get("all"):
            empty = pn.pane.Alert(
                "No investors yet. Load the demo fund with `./panel_serve.sh --demo` "
                "(or `crm demo-data`), or add investors from a notebook with `crm_lib.services`.",
                alert_type="info",
            )
            return shell(
                self.session, "/", title, empty, counts=nav_counts(self.runtime, self.session)
            )
        return shell(
            self.session,
            "/",
            title,
            self.totals,
            pn.Row(
                pn.Column(self.funds, self.lists, self.top, sizing_mode="stretch_width"),
                pn.Column(
                    self.notices,
                    self.tasks,
                    self.cold,
                    self.attention,
                    self.recent,
                    sizing_mode="stretch_width",
                ),
                sizing_mode="stretch_width",
            ),
            counts=nav_counts(self.runtime, self.session),
        )


def _card(label: str, value: str, note: str = "", *, href: str | None = None) -> str:
    """A figure with its label; a link to the rows behind it when ``href`` is given."""
    body = (
        f'<div class="crm-card-label">{escape_text(label)}</div>'
        f'<div class="crm-card-value">{escape_text(value)}</div>'
        + (f'<div class="crm-card-note">{escape_text(note)}</div>' if note else "")
    )
    if href is None:
        return f'<div class="crm-card">{body}</div>'
    return f'<a class="crm-card" href="{escape_text(href)}">{body}</a>'


def _attention_item(item: Mapping[str, Any]) -> str:
    title = escape_text(item["title"])
    if item.get("preset"):
        title = f'<a href="{escape_text(grid_url(preset=item["preset"]))}">{title}</a>'
    examples = ", ".join(
        f'<a href="{escape_text(record_url(e["id"]))}">{escape_text(e["name"])}</a>'
        for e in item["examples"]
    )
    more = item["count"] - len(item["examples"])
    if examples:
        examples = f"<div>e.g. {examples}{f' and {more:,} more' if more > 0 else ''}</div>"
    return (
        f'<div class="crm-attention-item"><span class="crm-attention-title">{title}</span> '
        f'<span class="crm-count">{item["count"]:,}</span>'
        f'<div class="crm-muted">{escape_text(item["detail"])}</div>{examples}</div>'
    )
