"""The search page, ``/search?q=...``: one query over email, notes, long-text fields and titles,
by meaning, by words or both (the mode switch), with filters (type, team member, dates); hits
grouped by investor, each with its snippet (matched words marked), date, team member and type.
An investor's name opens its record; an email opens its thread.

Reached from the search box in every page's header (a plain form: typing costs no server round
trip). The URL carries the query and the mode, so a search can be bookmarked and shared.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import panel as pn

from apps.chrome import UserPage, set_choices
from apps.links import record_url, url_int, url_text
from apps.markup import escape_text
from crm_lib import limits, services

MODES = {"Hybrid": "hybrid", "By meaning": "semantic", "Exact words": "keyword"}
TYPES = {"Everything": "", "Email": "email", "Notes": "note", "Fields and titles": "field"}
TYPE_LABELS = {"email": "Email", "note": "Note", "field": "Field"}
EVERYONE = 0
LIMIT = 50
RESULTS_CSS = """
.crm-hits-investor { margin: 0 0 var(--crm-space-4); }
.crm-hits-investor h3 { font-size: var(--crm-font-size-md); margin: 0 0 var(--crm-space-2); }
.crm-hit { border: 1px solid var(--crm-color-border); border-radius: var(--crm-radius-md);
  background: var(--crm-color-surface); padding: var(--crm-space-2) var(--crm-space-3);
  margin-bottom: var(--crm-space-2); }
.crm-hit-head { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-hit mark { background: #fde68a; color: inherit; padding: 0 1px; border-radius: 2px; }
"""


class SearchPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.query = pn.widgets.TextInput(
            label="Search",
            value=url_text("q") or "",
            placeholder="What to find: words, a name, or what it was about",
            max_length=limits.max_length("search"),
            sizing_mode="stretch_width",
        )
        mode = url_text("mode") or "hybrid"
        self.mode = pn.widgets.RadioButtonGroup(
            options=MODES, value=mode if mode in MODES.values() else "hybrid"
        )
        self.doc_type = pn.widgets.Select(label="Type", options=TYPES, width=180)
        self.member = pn.widgets.Select(label="Team member", options={}, width=200)
        self.since = pn.widgets.DatePicker(label="From", width=150)
        self.until = pn.widgets.DatePicker(label="To", width=150)
        self.investor_id = url_int("investor")
        self.button = pn.widgets.Button(label="Search", color="primary", align="end")
        self.summary = pn.pane.HTML("", sizing_mode="stretch_width")
        self.results = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[RESULTS_CSS])
        self.button.on_click(lambda _: self.run())
        self.query.param.watch(lambda _: self.run(), "enter_pressed")
        for widget in (self.mode, self.doc_type, self.member, self.since, self.until):
            widget.param.watch(lambda _: self.run(), "value")
        users = self.act(lambda ctx: services.list_users(ctx))
        if users is not None:
            set_choices(
                self.member,
                {"Everyone": EVERYONE, **{u["name"] or u["email"]: u["id"] for u in users}},
            )
        if self.query.value:
            self.run()
        else:
            self.summary.object = (
                "<p>Search every email, note, long-text field and title the team may read: by"
                " meaning (“who talked about a re-up”), by exact words, or both.</p>"
            )

    def run(self) -> None:
        query = (self.query.value_input or self.query.value or "").strip()
        if not query:
            return
        since = _start(self.since.value)
        until = _start(self.until.value, next_day=True)
        member = self.member.value or None
        found = self.act(
            lambda ctx: services.run_search(
                ctx,
                self.runtime.search_index(),
                query,
                mode=self.mode.value,
                doc_type=self.doc_type.value or None,
                user_id=member,
                investor_id=self.investor_id,
                since=since,
                until=until,
                limit=LIMIT,
            )
        )
        if found is None:
            return
        self.show(found)

    def show(self, found: dict[str, Any]) -> None:
        hits = found["hits"]
        also = (
            f" Also searched for {', '.join(f'<b>{escape_text(n)}</b>' for n in found['also_searched'])}"
            " (the fund glossary)."
            if found["also_searched"]
            else ""
        )
        self.summary.object = (
            f"<p>{len(hits)} result{'s' if len(hits) != 1 else ''} for"
            f" <b>{escape_text(found['query'])}</b>"
            f" in {len(found['investors'])} investor{'s' if len(found['investors']) != 1 else ''}."
            f"{also}</p>"
            if hits
            else f"<p>Nothing found for <b>{escape_text(found['query'])}</b>.{also} Try other"
            " words, or “By meaning”.</p>"
        )
        self.results.object = "".join(_investor_html(group) for group in found["investors"])

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/search",
            "Search",
            pn.Row(self.query, self.button, sizing_mode="stretch_width"),
            self.mode,
            pn.Row(self.doc_type, self.member, self.since, self.until),
            self.summary,
            self.results,
        )


def _start(day: Any, *, next_day: bool = False) -> datetime | None:
    """The start of a picked day (UTC), or of the day after it (an "until" that includes it)."""
    if day is None:
        return None
    moment = datetime.combine(day, time(0, 0), UTC)
    return moment + timedelta(days=1) if next_day else moment


def _investor_html(group: dict[str, Any]) -> str:
    hits = "".join(_hit_html(hit) for hit in group["hits"])
    return (
        f'<section class="crm-hits-investor"><h3><a href="{record_url(group["lp_id"])}">'
        f"{escape_text(group['lp_name'])}</a></h3>{hits}</section>"
    )


def _hit_html(hit: dict[str, Any]) -> str:
    head = [TYPE_LABELS.get(hit["doc_type"], hit["doc_type"])]
    if hit.get("date"):
        head.append(hit["date"][:10])
    if hit.get("team_member"):
        head.append(escape_text(hit["team_member"]))
    title = escape_text(hit.get("title") or "")
    if hit.get("thread_id"):
        title = f'<a href="/email?thread={int(hit["thread_id"])}">{title or "(no subject)"}</a>'
    return (
        f'<div class="crm-hit"><div class="crm-hit-head">{" · ".join(head)}'
        f"{' · ' + title if title else ''}</div>"
        f"<div>{hit['snippet_html']}</div></div>"
    )
