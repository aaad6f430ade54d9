"""The record page: one investor on a page of its own, at ``/record?id=<id>``, every part of it
editable in place.

Opened from the grid (the record panel's "Open record", which adds the grid's place: view, list,
search, header sorts and filters, and the row's position; see :mod:`apps.grid.place`), from the
contacts directory, or from a shared link. The URL is the whole state, so a reload shows the
same record and a link can be shared.

- **Fields** edit in place with the grid's editors and the grid's write: each change is one
  ``services.update_field`` call with the version the page read. A refused value or someone
  else's change is never applied and never loses what was typed: the input keeps it, says why
  (naming who changed the record, and when), and offers to save it over theirs or use theirs.
- **People** (add, edit, remove, mark primary; each links to its entry in the contacts
  directory), **commitments** per fund (add, edit amount, status and date, remove; the total is
  the service's rollup), and the **list** and **tags**.
- **History** with "Restore this value" (bound to the chosen entry, see
  :mod:`apps.record.history`), this investor's **activity**, its **emails** (threads, newest
  first: :mod:`apps.record.emails`), its open **tasks** (done with a click or key, and a form
  adding one: :mod:`apps.tasks.form`) and its **pipeline** (its opportunity in each fund).
- **Keyboard** (:mod:`apps.record.keys`): Esc back to the grid as it was, Alt+↓ / j and
  Alt+↑ / k to the next and previous record of the view.

An archived investor opens read-only with "Restore investor"; an unknown id says so. Who may open
the page is :mod:`apps.auth.page_access`'s rule (any role that may use the grid).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import panel as pn

from apps.auth.live import OpenPages
from apps.chrome import Attempt, UserPage
from apps.formatting import (
    browser_zone,
    money,
    percent,
    pills_html,
    plural,
    text,
    when,
    when_html,
)
from apps.forms import FormErrors
from apps.grid.live import GridHub
from apps.grid.place import GridPlace
from apps.markup import escape_markdown, escape_text
from apps.record.changes import change_text
from apps.record.emails import EmailTimeline
from apps.record.fields import LIST_LABELS, FieldEditor, value_html
from apps.record.history import HistoryList
from apps.record.keys import RecordKeys
from apps.record.store import NeighboursRead, NeighboursRequest, RecordStore, read_neighbours
from apps.runtime import Runtime, run_read
from apps.shell import shell
from apps.tasks.form import TaskForm
from crm_lib import limits, services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, CRMError, NotAuthenticated
from crm_lib.events import Change
from crm_lib.grid.ordered_ids import ScanNeeded, without_scans
from crm_lib.services.commitments import STATUSES

#: Fields shown under "Lists and tags" rather than among the details.
LIST_FIELDS = ("list_membership", "tags")
STATUS_LABELS = {"soft_circled": "Soft-circled", "committed": "Committed", "closed": "Closed"}
RECORD_CSS = """
.crm-pill { border-radius: var(--crm-radius-pill); padding: 1px 8px; margin-right: 4px;
  font-size: var(--crm-font-size-xs); display: inline-block; }
.crm-field-label { font-size: var(--crm-font-size-xs); font-weight: 600;
  color: var(--crm-color-text-muted); }
.crm-hint, .crm-meta { color: var(--crm-color-text-muted);
  font-size: var(--crm-font-size-xs); }
.crm-failed { color: var(--crm-color-danger-text); font-size: var(--crm-font-size-xs); }
.crm-record-nav a { margin-right: var(--crm-space-2); }
.crm-record-nav .crm-off { color: var(--crm-color-text-subtle);
  margin-right: var(--crm-space-2); }
.crm-badge { background: var(--crm-color-danger-subtle);
  color: var(--crm-color-danger-text); border-radius: var(--crm-radius-pill);
  padding: 2px 10px; font-size: var(--crm-font-size-sm); vertical-align: middle; }
.crm-primary { background: var(--crm-color-success-subtle);
  color: var(--crm-color-success-text); border-radius: var(--crm-radius-pill);
  padding: 1px 8px; font-size: var(--crm-font-size-xs); margin-left: 6px; }
.crm-empty { color: var(--crm-color-text-muted); }
.crm-day { margin: var(--crm-space-3) 0 var(--crm-space-1); font-weight: 600; }
.crm-activity-list { list-style: none; padding-left: 0; margin: 0; }
.crm-activity-list li { padding: 3px 0; }
"""


def _html(value: str = "", **params: Any) -> pn.pane.HTML:
    """An HTML pane with the page's styles (each pane is its own shadow root)."""
    return pn.pane.HTML(value, stylesheets=[RECORD_CSS], **params)


#: Changes after which the page's editors themselves may differ (fields, funds, the team, or a
#: restored backup).
STRUCTURAL = frozenset({"grid_fields", "fundraising_funds", "users", "fundraising_state"})


def _query_id(args: Mapping[str, Any] | None) -> int | None:
    raw = (args or {}).get("id", [b""])[0]
    value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return int(value) if value.isascii() and value.isdigit() and len(value) < 16 else None


class RecordPage(UserPage):
    """One investor's record, edited in place."""

    def __init__(
        self,
        runtime: Runtime,
        pages: OpenPages | None = None,
        *,
        investor_id: int | None = None,
        place: GridPlace | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(runtime, pages, **kwargs)
        self.store = RecordStore(place, investor_id=investor_id)
        self.zone = browser_zone()
        #: keys of fields whose input holds a typed value that is not saved (kept on refresh)
        self.kept: set[str] = set()
        #: the field change refused by someone else's change: (key, typed value)
        self.pending: tuple[str, Any] | None = None
        #: the person / commitment the forms edit, as loaded (id and version), None: adding
        self.editing_person: dict[str, Any] | None = None
        self.editing_commitment: dict[str, Any] | None = None
        self._neighbours_wanted = 0  # the newest neighbours read asked for (older are dropped)
        self._build()
        self.load()
        info = getattr(pn.state, "browser_info", None)
        if info is not None and pn.state.curdoc is not None:
            # the browser says its timezone after the page is built: times follow it
            info.param.watch(lambda _: self._zone_known(), "timezone")

    @classmethod
    def from_request(
        cls, runtime: Runtime, pages: OpenPages | None = None, hub: GridHub | None = None
    ) -> RecordPage:
        """The page for the current request's URL (``/record?id=12&view=3&pos=40``); with a
        ``hub``, others' changes to the record show as they are committed."""
        args = pn.state.session_args if pn.state.curdoc is not None else {}
        page = cls(runtime, pages, investor_id=_query_id(args), place=GridPlace.from_args(args))
        if hub is not None:
            forget = hub.register(page)
            if page.document is not None:
                pn.state.on_session_destroyed(lambda _ctx: forget())
        return page

    @property
    def document(self) -> Any:
        """The page's Bokeh document (None outside a served session: tests, notebooks)."""
        return self._document

    def on_remote_changes(self, changes: list[Change]) -> None:
        """Changes committed anywhere (the grid, another record page, the API, a job): the
        fields, people, commitments and history on screen follow them. Fields, funds and
        team changes rebuild the editors; a typed value not yet saved is kept either way."""
        store = self.store
        if any(c.entity in STRUCTURAL for c in changes):
            self.load()
            return
        people = {p["id"] for p in store.people}
        commitments = {c["id"] for c in store.commitments}
        touched = any(
            (c.entity == "fundraising_investors" and c.entity_id == store.investor_id
             and c.version != store.investor.get("version"))
            or (c.entity == "fundraising_contacts" and (c.entity_id in people or c.action == "create"))
            or (c.entity == "fundraising_commitments"
                and (c.entity_id in commitments or c.action == "create"))
            for c in changes
        )  # fmt: skip
        if touched:
            self.reload(place=False)

    # -- widgets -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.keys = RecordKeys()
        self.title = _html("", sizing_mode="stretch_width", css_classes=["crm-record-title"])
        self.nav = _html("", css_classes=["crm-record-nav"], sizing_mode="stretch_width")
        self.meta = _html("", css_classes=["crm-record-meta"])
        self.missing = pn.pane.Alert("", alert_type="warning", visible=False)
        self.archived_note = _html("", visible=False)
        self.restore_investor_button = pn.widgets.Button(
            label="Restore investor", color="primary", visible=False
        )
        self.archive_button = pn.widgets.Button(
            label="Archive investor", color="danger", variant="outline"
        )
        # one conflict at a time: what was typed, who changed the record, and the two ways on
        self.conflict_text = _html("")
        self.save_mine_button = pn.widgets.Button(label="Save mine over theirs", color="primary")
        self.use_theirs_button = pn.widgets.Button(label="Use theirs")
        self.conflict = pn.Column(
            self.conflict_text,
            pn.Row(self.save_mine_button, self.use_theirs_button),
            visible=False,
            css_classes=["crm-record-conflict"],
            styles={
                "border": "1px solid var(--crm-color-danger)",
                "background": "var(--crm-color-danger-subtle)",
                "border-radius": "var(--crm-radius-md)",
                "padding": "var(--crm-space-2)",
            },
            sizing_mode="stretch_width",
        )
        self.editors: dict[str, FieldEditor] = {}
        self.details = pn.FlexBox(sizing_mode="stretch_width", css_classes=["crm-record-details"])
        self.lists = pn.FlexBox(sizing_mode="stretch_width", css_classes=["crm-record-lists"])
        # people
        self.people_rows = pn.Column(sizing_mode="stretch_width", css_classes=["crm-people"])
        self.person_heading = _html("<b>Add a person</b>")
        self.person_name = pn.widgets.TextInput(
            label="Name", width=200, max_length=limits.max_length("person_name")
        )
        self.person_email = pn.widgets.TextInput(
            label="Email", width=220, max_length=limits.max_length("email")
        )
        self.person_title = pn.widgets.TextInput(
            label="Title", width=160, max_length=limits.max_length("text")
        )
        self.person_phone = pn.widgets.TextInput(
            label="Phone", width=150, max_length=limits.max_length("phone")
        )
        self.person_primary = pn.widgets.Checkbox(label="Primary contact", align="end")
        self.add_person_button = pn.widgets.Button(label="Add person", color="primary")
        self.save_person_button = pn.widgets.Button(
            label="Save person", color="primary", visible=False
        )
        self.cancel_person_button = pn.widgets.Button(label="Cancel", visible=False)
        self.person_errors = FormErrors(
            {
                "full_name": self.person_name,
                "email": self.person_email,
                "title": self.person_title,
                "phone": self.person_phone,
            }
        )
        self.person_form = pn.Column(
            self.person_heading,
            pn.Row(*map(self.person_errors.field, ("full_name", "email", "title", "phone"))),
            pn.Row(
                self.person_primary,
                self.add_person_button,
                self.save_person_button,
                self.cancel_person_button,
            ),
            css_classes=["crm-person-form"],
        )
        # commitments
        self.commitment_rows = pn.Column(
            sizing_mode="stretch_width", css_classes=["crm-commitments"]
        )
        self.total = _html("", css_classes=["crm-record-total"])
        self.commitment_heading = _html("<b>Add a commitment</b>")
        self.commitment_fund = pn.widgets.Select(label="Fund", options={}, width=200)
        self.commitment_amount = pn.widgets.FloatInput(
            label="Amount", value=None, start=0, step=1000, width=160
        )
        self.commitment_status = pn.widgets.Select(
            label="Status",
            options={STATUS_LABELS[s]: s for s in STATUSES},
            value="committed",
            width=140,
        )
        self.commitment_date = pn.widgets.DatePicker(label="Committed on", value=None, width=160)
        self.add_commitment_button = pn.widgets.Button(
            label="Add commitment", color="primary", align="end"
        )
        self.save_commitment_button = pn.widgets.Button(
            label="Save commitment", color="primary", visible=False, align="end"
        )
        self.cancel_commitment_button = pn.widgets.Button(
            label="Cancel", visible=False, align="end"
        )
        self.commitment_errors = FormErrors(
            {
                "fund_id": self.commitment_fund,
                "amount": self.commitment_amount,
                "status": self.commitment_status,
                "committed_on": self.commitment_date,
            }
        )
        self.commitment_form = pn.Column(
            self.commitment_heading,
            pn.Row(
                *map(self.commitment_errors.field, ("fund_id", "amount", "status", "committed_on"))
            ),
            pn.Row(
                self.add_commitment_button,
                self.save_commitment_button,
                self.cancel_commitment_button,
            ),
            css_classes=["crm-commitment-form"],
        )
        # history, activity and the places later issues fill
        self.history = HistoryList(self.restore_value)
        self.activity = _html("", sizing_mode="stretch_width", css_classes=["crm-record-activity"])
        self.body = pn.Column(
            sizing_mode="stretch_width", visible=False, css_classes=["crm-record-body"]
        )
        self.emails = EmailTimeline(self._read_emails)
        self.task_form = TaskForm(self)
        self.pipeline = _html("", sizing_mode="stretch_width", css_classes=["crm-record-pipeline"])
        self.tabs = pn.Tabs(
            ("History", self.history.layout),
            ("Activity", self.activity),
            ("Emails", self.emails.layout),
            ("Tasks", self.task_form),
            ("Pipeline", self.pipeline),
            sizing_mode="stretch_width",
            css_classes=["crm-record-tabs"],
        )
        self._lay_out_body()
        self._wire()

    def _lay_out_body(self) -> None:
        section = pn.pane.Markdown
        self.body.objects = [
            section("### Details"),
            self.details,
            section("### Lists and tags"),
            self.lists,
            section("### People"),
            self.people_rows,
            self.person_form,
            section("### Commitments"),
            self.total,
            self.commitment_rows,
            self.commitment_form,
            self.tabs,
        ]

    def _wire(self) -> None:
        self.save_mine_button.on_click(lambda _: self.save_mine())
        self.use_theirs_button.on_click(lambda _: self.use_theirs())
        self.archive_button.on_click(lambda _: self.archive())
        self.restore_investor_button.on_click(lambda _: self.restore_investor())
        self.add_person_button.on_click(lambda _: self.add_person())
        self.save_person_button.on_click(lambda _: self.save_person())
        self.cancel_person_button.on_click(lambda _: self.cancel_person())
        self.add_commitment_button.on_click(lambda _: self.add_commitment())
        self.save_commitment_button.on_click(lambda _: self.save_commitment())
        self.cancel_commitment_button.on_click(lambda _: self.cancel_commitment())
        self.tabs.param.watch(lambda _: self._open_emails(), "active")

    def _zone_known(self) -> None:
        self.zone = browser_zone()
        if self.store.found:
            self.show()

    # -- reading -----------------------------------------------------------------------------------
    def load(self) -> None:
        """Read everything (columns, names, the record, its place) and show it."""

        def read(ctx: Context) -> bool:
            self.store.load(ctx)
            if self.store.found:
                self._read_neighbours(ctx)
            return True

        if self.act(read):  # else the page's alert says what failed
            self._build_editors()
            self.show()

    def reload(self, *, place: bool = True) -> None:
        """Read the record again (after a change here or elsewhere) and show it; with ``place``,
        its previous and next in the view too (a change that cannot move it leaves them)."""

        def read(ctx: Context) -> bool:
            self.store.load_record(ctx)
            if self.store.found and (place or self.store.neighbours is None):
                self._read_neighbours(ctx)
            return True

        if self.act(read):
            self.show()

    def _read_neighbours(self, ctx: Context) -> None:
        """Read the previous and next investors now when the view's order is remembered; when
        it needs a scan of every investor (a view not read since the data changed: a second at
        a million), served, on a read thread, shown when it arrives: on the event loop it held
        up every other session's pages and edits."""
        request = self.store.neighbours_request()
        self._neighbours_wanted += 1
        if self._document is None:
            self.store.show_neighbours(read_neighbours(ctx, request))
            return
        try:
            with without_scans():
                read = read_neighbours(ctx, request)
        except ScanNeeded:
            pn.state.execute(partial(self._neighbours_off_loop, self._neighbours_wanted, request))
            return
        self.store.show_neighbours(read)

    async def _neighbours_off_loop(self, wanted: int, request: NeighboursRequest) -> None:
        attempt = await run_read(self._attempt, lambda ctx: read_neighbours(ctx, request))
        self.on_loop(partial(self._show_neighbours_read, wanted, attempt))

    def _show_neighbours_read(self, wanted: int, attempt: Attempt[NeighboursRead]) -> None:
        """Show neighbours read on a read thread, unless a newer read was asked for since."""
        if wanted != self._neighbours_wanted or attempt.result is None:
            return
        self.store.show_neighbours(attempt.result)
        self._show_nav()

    def _build_editors(self) -> None:
        grid = self.store.grid
        self.editors = {}
        for column in grid.columns:
            spec = grid.fields.get(column.field_key or "")
            if spec is None:
                continue  # people, funds and bookkeeping have sections of their own
            self.editors[spec.key] = FieldEditor(column, spec, grid.users, self.save_field)
        self.details.objects = [e.layout for k, e in self.editors.items() if k not in LIST_FIELDS]
        self.lists.objects = [self.editors[k].layout for k in LIST_FIELDS if k in self.editors]

    # -- showing -----------------------------------------------------------------------------------
    def show(self) -> None:
        """Show the store: the header and place, every field, people, commitments, history."""
        store = self.store
        self.keys.back_url = store.back_url()
        self.keys.previous_url = store.neighbour_url(-1)
        self.keys.next_url = store.neighbour_url(+1)
        self._show_nav()
        if not store.found:
            self._show_missing()
            return
        self.missing.visible = False
        self.body.visible = True
        investor = store.investor
        archived = store.archived
        badge = " <span class='crm-badge'>Archived</span>" if archived else ""
        self.title.object = f"<h2>{escape_text(investor['name'])}{badge}</h2>"
        self.meta.object = (
            f"<span class='crm-meta'>Added by {escape_text(store.who(investor['created_by']))}"
            f" {when_html(investor['created_at'], zone=self.zone)} · last changed by"
            f" {escape_text(store.who(investor['updated_by']))}"
            f" {when_html(investor['updated_at'], zone=self.zone)}</span>"
        )
        self.archived_note.param.update(
            object=(
                "<p><b>This investor is archived</b>: it is shown read-only, and is in no list"
                " or view. Restore it to edit it again.</p>"
            ),
            visible=archived,
        )
        self.restore_investor_button.visible = archived
        self.archive_button.visible = not archived
        for key, editor in self.editors.items():
            editor.show(
                investor.get(key), read_only=archived, zone=self.zone, keep_typed=key in self.kept
            )
        self._show_people()
        self._show_commitments()
        self.history.show(
            store.history,
            version=store.version,
            labels=store.labels,
            who=store.who,
            zone=self.zone,
        )
        self.history.button.visible = self.history.hint.visible = not archived
        self.activity.object = self._activity_html()
        self.task_form.about({"investor_id": investor["id"], "investor_name": investor["name"]})
        self.pipeline.object = self._pipeline_html()
        if self.emails.loaded:
            self._open_emails(again=True)
        for part in (self.person_form, self.commitment_form):
            part.visible = not archived

    def _show_nav(self) -> None:
        store = self.store
        back = f"<a href='{escape_text(store.back_url())}'>← Back to the grid</a> <span class='crm-hint'>(Esc)</span>"
        links = [back]
        for step, label, key in ((-1, "◀ Previous", "k"), (+1, "Next ▶", "j")):
            url = store.neighbour_url(step)
            if url:
                links.append(
                    f"<a href='{escape_text(url)}' class='crm-{'previous' if step < 0 else 'next'}'>"
                    f"{label}</a><span class='crm-hint'>({key})</span>"
                )
            else:
                links.append(f"<span class='crm-off'>{label}</span>")
        neighbours = store.neighbours
        where = escape_text(store.view_name)
        list_key = store.place.list_key
        if list_key and list_key != "all":  # "all" adds nothing to the view's name
            list_label = "Archived" if list_key == "archived" else LIST_LABELS.get(list_key, "")
            where += f" · {escape_text(list_label or list_key)}"
        if store.place_problem:
            position = f"Previous and next are off: {escape_text(store.place_problem)}"
        elif neighbours is None:
            position = ""
        elif neighbours.position is None:
            position = f"Not in {where} now ({plural(neighbours.total, 'investor')})"
        else:
            position = f"{neighbours.position + 1:,} of {neighbours.total:,} in {where}"
        self.nav.object = " ".join(links) + (
            f" <span class='crm-hint'>{position}</span>" if position else ""
        )

    def _show_missing(self) -> None:
        investor_id = self.store.investor_id
        self.title.object = "<h2>Investor not found</h2>"
        self.missing.param.update(
            object=escape_markdown(
                f"There is no investor #{investor_id}: the link may be mistyped or cut short."
                " Find the investor in the grid (search by name) and open its record from there."
                if investor_id is not None
                else "This page shows one investor: open it from the grid (the ⤢ cell, then"
                " “Open record”), the contacts directory or a shared link."
            ),
            visible=True,
        )
        self.body.visible = False
        self.meta.object = ""
        self.archived_note.visible = False
        self.restore_investor_button.visible = False
        self.archive_button.visible = False

    # -- emails ------------------------------------------------------------------------------
    EMAILS_TAB = 2

    def _open_emails(self, *, again: bool = False) -> None:
        """Read the timeline the first time the Emails tab is opened (and on later reloads)."""
        if self.tabs.active != self.EMAILS_TAB and not again:
            return
        if (self.emails.loaded and not again) or not self.store.found:
            return
        if self.store.archived:
            self.emails.list.object = (
                "<p class='crm-empty'>This investor is archived: its emails show again once it"
                " is restored.</p>"
            )
            return
        self.emails.refresh(self.zone)

    def _read_emails(self, limit: int, offset: int) -> dict[str, Any] | None:
        investor_id = self.store.investor_id
        return self.act(
            lambda ctx: services.investor_emails(ctx, investor_id, limit=limit, offset=offset)
        )

    def _pipeline_html(self) -> str:
        """The investor's opportunities, one per fund (open, won and lost), each linking to its
        fund's board. Flag the investor for a fund in the grid's stage column."""
        investor_id = self.store.investor_id
        rows = self.act(
            lambda ctx: services.list_opportunities(ctx, investor_id=investor_id, status=None)
        )
        if not rows:
            return (
                "<p class='crm-empty'>In no fund's pipeline. Flag this investor for a fund in the"
                " grid's “<i>fund</i> stage” column; it then moves on the Pipeline page.</p>"
            )
        items = []
        for row in rows:
            currency = row.get("currency") or "USD"
            amount = row["expected_amount"]
            figures = [
                escape_text(row["stage_name"]),
                escape_text(money(amount, currency)) + f" at {percent(row['probability_used'])}"
                if amount is not None
                else "no amount yet",
                escape_text(row.get("owner_name") or "no owner"),
            ]
            if row["status"] == "open":
                figures.append(f"{row['days_in_stage']:,} days in stage")
                if row.get("next_step"):
                    figures.append("next: " + escape_text(row["next_step"]))
            elif row["status"] == "lost" and row.get("lost_reason"):
                figures.append("lost: " + escape_text(row["lost_reason"]))
            items.append(
                f"<li><a href='/pipeline?fund={int(row['fund_id'])}'>"
                f"{escape_text(row['fund_name'])}</a> — {' · '.join(figures)}</li>"
            )
        return f"<ul class='crm-record-opportunities'>{''.join(items)}</ul>"

    def _activity_html(self) -> str:
        """This investor's activity, newest first, grouped by day (in the viewer's zone)."""
        events = self.store.activity
        if not events:
            return "<p class='crm-empty'>Nothing has happened to this investor yet.</p>"
        zone = _zone(self.zone)
        today = datetime.now(UTC).astimezone(zone).date()
        labels = self.store.labels
        parts: list[str] = []
        day_shown: date | None = None
        for event in events:
            day = _local_day(event["at"], zone)
            if day != day_shown:
                if day_shown is not None:
                    parts.append("</ul>")
                parts.append(f"<div class='crm-day'>{escape_text(_day_label(day, today))}</div>")
                parts.append("<ul class='crm-activity-list'>")
                day_shown = day
            said = event.get("sentence") or (
                f"{self.store.who(event['actor'])} {_event_change(event, labels)}"
            )
            parts.append(
                f"<li>{escape_text(said)} · "
                f"<span class='crm-hint'>{when_html(event['at'], zone=self.zone)}</span></li>"
            )
        parts.append("</ul>")
        return "".join(parts)

    # -- fields ------------------------------------------------------------------------------------
    def save_field(self, key: str, value: Any) -> None:
        """Save one field as typed, with the version the page shows; on a conflict or a refused
        value keep what was typed and say why (see the module docstring)."""
        store, editor = self.store, self.editors[key]
        if not store.found or store.archived:
            editor.fail(
                "<span class='crm-failed'>Archived: restore the investor to edit it.</span>"
            )
            return
        investor_id, version = store.investor_id, store.version
        attempt = self._attempt(
            lambda ctx: services.update_field(
                ctx, investor_id, key, value, expected_version=version
            )
        )
        error = attempt.error
        if isinstance(error, ConflictError):
            self._field_conflict(key, value, error)
            return
        if error is not None:
            if isinstance(error, NotAuthenticated):
                self._settle(attempt, "")
                return
            self.kept.add(key)
            editor.fail(f"<span class='crm-failed'>Not saved: {escape_text(error.message)}</span>")
            self._report(f"Not saved: {error.message}", failed=True)
            return
        self.kept.discard(key)
        editor.clear()
        if self.pending is not None and self.pending[0] == key:
            self._end_conflict()
        self._report(f"Saved {editor.spec.label}.", failed=False)
        self.reload(place=store.place_depends_on(key))

    def _field_conflict(self, key: str, value: Any, error: ConflictError) -> None:
        """Someone else changed the record first: show the record as it is now, keep what was
        typed in its input, and name who changed it and when."""
        self.kept.add(key)
        self.pending = (key, value)
        self.reload()
        editor, store = self.editors[key], self.store
        who = escape_text(store.who(error.updated_by))
        relative, exact = when(error.updated_at, zone=self.zone)
        now_html = value_html(editor.spec, store.investor.get(key), store.grid.users, self.zone)
        label = escape_text(editor.spec.label)
        editor.fail(
            f"<span class='crm-failed'>Not saved: {who} changed this record {escape_text(relative)}."
            " What you typed is kept here.</span>"
        )
        self.conflict_text.object = (
            f"<b>Not saved: {who} changed {escape_text(store.investor.get('name', ''))}"
            f" {escape_text(relative)}</b> <span class='crm-hint'>({escape_text(exact)})</span>."
            f" {label} is now <b>{now_html or 'blank'}</b>; what you typed is kept in its box."
        )
        self.conflict.visible = True
        self._report(
            f"Not saved: {store.who(error.updated_by)} changed this record {relative}.",
            failed=True,
        )

    def save_mine(self) -> None:
        """Save the kept value over the other person's change (they have now been seen)."""
        if self.pending is not None:
            key, _ = self.pending
            self.save_field(key, self.editors[key].typed())

    def use_theirs(self) -> None:
        """Drop what was typed; show the stored value."""
        if self.pending is not None:
            key, _ = self.pending
            self.kept.discard(key)
            self.editors[key].use_stored()
        self._end_conflict()

    def _end_conflict(self) -> None:
        self.pending = None
        self.conflict.visible = False
        self.conflict_text.object = ""

    # -- people ------------------------------------------------------------------------------------
    def _show_people(self) -> None:
        people = self.store.people
        archived = self.store.archived
        if not people:
            self.people_rows.objects = [
                _html(
                    "<p class='crm-empty'>No people yet. Add the first below: they join the"
                    " contacts directory too.</p>"
                )
            ]
            return
        rows = []
        for person in people:
            buttons = []
            if not archived:
                buttons.append(self._button("Edit", lambda p=person: self.edit_person(p["id"])))
                if not person["is_primary"]:
                    buttons.append(
                        self._button("Make primary", lambda p=person: self.make_primary(p["id"]))
                    )
                buttons.append(
                    self._button(
                        "Remove", lambda p=person: self.remove_person(p["id"]), danger=True
                    )
                )
            rows.append(
                pn.Row(
                    _html(_person_html(person), sizing_mode="stretch_width"),
                    *buttons,
                    sizing_mode="stretch_width",
                    css_classes=["crm-person", f"crm-person-{person['id']}"],
                )
            )
        self.people_rows.objects = rows

    @staticmethod
    def _button(label: str, action: Callable[[], None], danger: bool = False) -> pn.widgets.Button:
        button = pn.widgets.Button(
            label=label,
            color="danger" if danger else "default",
            variant="outline",
            width=110 if label == "Make primary" else 80,
            align="center",
        )
        button.on_click(lambda _: action())
        return button

    def _person(self, person_id: int) -> dict[str, Any] | None:
        return next((p for p in self.store.people if p["id"] == person_id), None)

    def _person_values(self) -> dict[str, Any]:
        return {
            "full_name": self.person_name.value,
            "email": self.person_email.value or None,
            "title": self.person_title.value or None,
            "phone": self.person_phone.value or None,
            "is_primary": bool(self.person_primary.value),
        }

    def _set_person_form(self, person: Mapping[str, Any] | None) -> None:
        person = person or {}
        self.person_errors.clear()
        self.person_name.value = person.get("full_name") or ""
        self.person_email.value = person.get("email") or ""
        self.person_title.value = person.get("title") or ""
        self.person_phone.value = person.get("phone") or ""
        self.person_primary.value = bool(person.get("is_primary"))
        editing = self.editing_person is not None
        name = escape_text(person.get("full_name") or "")
        self.person_heading.object = f"<b>Edit {name}</b>" if editing else "<b>Add a person</b>"
        self.add_person_button.visible = not editing
        self.save_person_button.visible = self.cancel_person_button.visible = editing

    def add_person(self) -> None:
        investor_id, values = self.store.investor_id, self._person_values()
        done = self.act(
            lambda ctx: services.add_person(ctx, investor_id, values),
            success=f"Added {values['full_name']}.",
            form=self.person_errors,
        )
        if done is not None:
            self._set_person_form(None)
            self.reload(place=False)

    def edit_person(self, person_id: int) -> None:
        """Fill the form with a person, to change them (name, email, title, phone, primary)."""
        self.editing_person = self._person(person_id)
        self._set_person_form(self.editing_person)

    def cancel_person(self) -> None:
        self.editing_person = None
        self._set_person_form(None)

    def save_person(self) -> None:
        """Save the form into the person being edited, at the version the form was filled
        from; if someone changed them since, keep the form and say who."""
        person = self.editing_person
        if person is None:
            return
        values = self._person_values()
        attempt = self._attempt(
            lambda ctx: services.update_person(
                ctx, person["id"], values, expected_version=person["version"]
            )
        )
        if self._person_conflict(attempt.error, person):
            return
        if self._settle(attempt, f"Saved {values['full_name']}.", self.person_errors) is not None:
            self.editing_person = None
            self._set_person_form(None)
            self.reload(place=False)

    def _person_conflict(self, error: CRMError | None, person: Mapping[str, Any]) -> bool:
        """Report a conflict on a person (the form keeps what was typed); True if it was one."""
        if not isinstance(error, ConflictError):
            return False
        self.reload(place=False)
        current = self._person(person["id"])
        who = self.store.who(error.updated_by)
        relative, _ = when(error.updated_at, zone=self.zone)
        if current is None:
            self.editing_person = None
            self._report(f"Not saved: {who} removed {person['full_name']} {relative}.", failed=True)
            return True
        if self.editing_person is not None:
            self.editing_person = current  # what they changed has now been shown
        self._report(
            f"Not saved: {who} changed {current['full_name']} {relative}. What you typed is still"
            " in the form: save again to replace their change, or cancel.",
            failed=True,
        )
        return True

    def make_primary(self, person_id: int) -> None:
        person = self._person(person_id)
        if person is None:
            return
        attempt = self._attempt(
            lambda ctx: services.update_person(
                ctx, person_id, {"is_primary": True}, expected_version=person["version"]
            )
        )
        if not self._person_conflict(attempt.error, person):
            self._settle(attempt, f"{person['full_name']} is now the primary contact.")
            self.reload(place=False)

    def remove_person(self, person_id: int) -> None:
        """Ask, then remove a person (from the investor and the directory; restorable)."""
        person = self._person(person_id)
        if person is None:
            return
        self.confirm(
            f"Remove {person['full_name']} from {self.store.investor['name']}? They leave the"
            " contacts directory too (the history keeps them).",
            "Remove",
            lambda: self._remove_person(person),
        )

    def _remove_person(self, person: Mapping[str, Any]) -> None:
        attempt = self._attempt(
            lambda ctx: services.remove_person(
                ctx, person["id"], expected_version=person["version"]
            )
        )
        if not self._person_conflict(attempt.error, person):
            removed = self._settle(attempt, f"Removed {person['full_name']}.") is not None
            if removed and self.editing_person and self.editing_person["id"] == person["id"]:
                self.cancel_person()
            self.reload(place=False)

    # -- commitments -------------------------------------------------------------------------------
    def _funds(self) -> dict[int, dict[str, Any]]:
        return {fund["id"]: fund for fund in self.store.grid.funds}

    def _show_commitments(self) -> None:
        store, funds = self.store, self._funds()
        archived = store.archived
        rows = []
        for commitment in store.commitments:
            fund = funds.get(commitment["fund_id"], {})
            buttons = []
            if not archived:
                buttons = [
                    self._button("Edit", lambda c=commitment: self.edit_commitment(c["id"])),
                    self._button(
                        "Remove", lambda c=commitment: self.remove_commitment(c["id"]), danger=True
                    ),
                ]
            rows.append(
                pn.Row(
                    _html(
                        _commitment_html(commitment, fund.get("currency") or "USD", self.zone),
                        sizing_mode="stretch_width",
                    ),
                    *buttons,
                    sizing_mode="stretch_width",
                    css_classes=["crm-commitment", f"crm-commitment-{commitment['id']}"],
                )
            )
        if not rows:
            rows = [_html("<p class='crm-empty'>No commitments yet.</p>")]
        self.commitment_rows.objects = rows
        count = len(store.commitments)
        self.total.object = (
            f"Total invested: <b class='crm-total'>{escape_text(money(store.investor.get('total_invested') or 0))}</b>"
            f" <span class='crm-hint'>across {plural(count, 'fund')}</span>"
        )
        self._set_fund_choices()

    def _set_fund_choices(self) -> None:
        """Funds to commit to: those without a live commitment of this investor (one each), or
        the fund of the commitment being edited."""
        funds = self._funds()
        editing = self.editing_commitment
        if editing is not None:
            fund = funds.get(editing["fund_id"], {"name": editing.get("fund_name", "")})
            self.commitment_fund.options = {fund["name"]: editing["fund_id"]}
            self.commitment_fund.disabled = True
            return
        taken = {c["fund_id"] for c in self.store.commitments}
        options = {f["name"]: f["id"] for f in funds.values() if f["id"] not in taken}
        self.commitment_fund.options = options
        self.commitment_fund.disabled = False
        if self.commitment_fund.value not in options.values():
            self.commitment_fund.value = next(iter(options.values()), None)
        self.add_commitment_button.disabled = not options

    def _commitment(self, commitment_id: int) -> dict[str, Any] | None:
        return next((c for c in self.store.commitments if c["id"] == commitment_id), None)

    def _set_commitment_form(self, commitment: Mapping[str, Any] | None) -> None:
        commitment = commitment or {}
        self.commitment_errors.clear()
        editing = self.editing_commitment is not None
        self._set_fund_choices()
        self.commitment_amount.value = commitment.get("amount")
        self.commitment_status.value = commitment.get("status") or "committed"
        day = commitment.get("committed_on")
        self.commitment_date.value = date.fromisoformat(day[:10]) if day else None
        fund = escape_text(commitment.get("fund_name") or "")
        self.commitment_heading.object = (
            f"<b>Edit the commitment to {fund}</b>" if editing else "<b>Add a commitment</b>"
        )
        self.add_commitment_button.visible = not editing
        self.save_commitment_button.visible = self.cancel_commitment_button.visible = editing

    def _commitment_values(self) -> dict[str, Any]:
        day = self.commitment_date.value
        return {
            "amount": self.commitment_amount.value,
            "status": self.commitment_status.value,
            "committed_on": day.isoformat() if isinstance(day, date) else None,
        }

    def add_commitment(self) -> None:
        fund_id = self.commitment_fund.value
        if fund_id is None:
            self._report("Every fund already has a commitment from this investor.", failed=True)
            return
        self._write_commitment(fund_id, None)

    def edit_commitment(self, commitment_id: int) -> None:
        """Fill the form with a commitment, to change its amount, status or date."""
        self.editing_commitment = self._commitment(commitment_id)
        self._set_commitment_form(self.editing_commitment)

    def cancel_commitment(self) -> None:
        self.editing_commitment = None
        self._set_commitment_form(None)

    def save_commitment(self) -> None:
        commitment = self.editing_commitment
        if commitment is not None:
            self._write_commitment(commitment["fund_id"], commitment)

    def _write_commitment(self, fund_id: int, commitment: Mapping[str, Any] | None) -> None:
        """Create (``commitment`` None) or change the commitment to a fund, at the version the
        form was filled from; the service recomputes the investor's total in the same write."""
        investor_id, values = self.store.investor_id, self._commitment_values()
        version = commitment["version"] if commitment is not None else None
        fund_name = self._funds().get(fund_id, {}).get("name", "the fund")
        attempt = self._attempt(
            lambda ctx: services.set_commitment(
                ctx,
                investor_id,
                fund_id,
                values["amount"],
                status=values["status"],
                committed_on=values["committed_on"],
                expected_version=version,
            )
        )
        error = attempt.error
        if isinstance(error, ConflictError):
            self.reload(place=self.store.place_depends_on("total_invested"))
            current = next((c for c in self.store.commitments if c["fund_id"] == fund_id), None)
            if self.editing_commitment is not None or current is not None:
                self.editing_commitment = current  # save again: over what is now shown
                self._set_fund_choices()
                self.add_commitment_button.visible = current is None
                self.save_commitment_button.visible = current is not None
                self.cancel_commitment_button.visible = current is not None
            relative, _ = when(error.updated_at, zone=self.zone)
            self._report(
                f"Not saved: {self.store.who(error.updated_by)} changed the commitment to"
                f" {fund_name} {relative}. What you typed is still in the form: save again to"
                " replace their change, or cancel.",
                failed=True,
            )
            return
        verb = "Saved" if commitment is not None else "Added"
        settled = self._settle(
            attempt, f"{verb} the commitment to {fund_name}.", self.commitment_errors
        )
        if settled is not None:
            self.editing_commitment = None
            self._set_commitment_form(None)
            self.reload(place=self.store.place_depends_on("total_invested"))

    def remove_commitment(self, commitment_id: int) -> None:
        commitment = self._commitment(commitment_id)
        if commitment is None:
            return
        self.confirm(
            f"Remove the commitment of {money(commitment['amount'])} to"
            f" {commitment['fund_name']}? The total drops by as much (the history keeps it).",
            "Remove",
            lambda: self._remove_commitment(commitment),
        )

    def _remove_commitment(self, commitment: Mapping[str, Any]) -> None:
        attempt = self._attempt(
            lambda ctx: services.remove_commitment(
                ctx, commitment["id"], expected_version=commitment["version"]
            )
        )
        if isinstance(attempt.error, ConflictError):
            who = self.store.who(attempt.error.updated_by)
            self._report(
                f"Not removed: {who} changed the commitment to {commitment['fund_name']} since;"
                " it now shows their change.",
                failed=True,
            )
        else:
            self._settle(attempt, f"Removed the commitment to {commitment['fund_name']}.")
        if self.editing_commitment and self.editing_commitment["id"] == commitment["id"]:
            self.cancel_commitment()
        self.reload(place=self.store.place_depends_on("total_invested"))

    # -- history -----------------------------------------------------------------------------------
    def restore_value(self, audit_id: int, version: int) -> None:
        """Set the chosen entry's field back, if the record is still at the version it had when
        the entry was chosen; else say who changed it and restore nothing."""
        attempt = self._attempt(
            lambda ctx: services.restore_value(ctx, audit_id, expected_version=version)
        )
        error = attempt.error
        if isinstance(error, ConflictError):
            relative, exact = when(error.updated_at, zone=self.zone)
            self._report(
                f"Not restored: {self.store.who(error.updated_by)} changed"
                f" {self.store.investor.get('name', 'this investor')} {relative} ({exact}), after"
                " you chose that change. The history now shows the record as it is; choose the"
                " value to restore again.",
                failed=True,
            )
        else:
            self._settle(attempt, "Value restored.")
        self.history.forget()
        self.reload()

    # -- the investor ------------------------------------------------------------------------------
    def archive(self) -> None:
        self.confirm(
            f"Archive {self.store.investor['name']}? It leaves every list and view (with its"
            " people and commitments) until someone restores it from the Archived list.",
            "Archive",
            self._archive,
        )

    def _archive(self) -> None:
        investor_id, version = self.store.investor_id, self.store.version
        self.act(
            lambda ctx: services.archive_investor(ctx, investor_id, expected_version=version),
            success="Archived; restore it here or from the grid's Archived list.",
        )
        self.reload()

    def restore_investor(self) -> None:
        investor_id, version = self.store.investor_id, self.store.version
        self.act(
            lambda ctx: services.restore_investor(ctx, investor_id, expected_version=version),
            success="Restored.",
        )
        self.reload()

    # -- layout ------------------------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        return shell(
            self.session,
            "/grid",  # a record is part of the grid: its navigation entry stays marked
            self.keys,
            self.nav,
            pn.Row(self.title, self.archive_button, sizing_mode="stretch_width"),
            self.meta,
            self.missing,
            self.status,
            self.conflict,
            self.archived_note,
            self.restore_investor_button,
            self.body,
            dialog=self.confirmation,
            counts=self.nav_counts(),
        )


def _person_html(person: Mapping[str, Any]) -> str:
    """A person's line: name (a link to their directory entry), primary, title, email, phone."""
    name = escape_text(person["full_name"])
    if person.get("contact_id") is not None:
        name = (
            f"<a href='/contacts?contact={int(person['contact_id'])}' class='crm-person-link'"
            f" title='Open in the contacts directory'>{name}</a>"
        )
    primary = " <span class='crm-primary'>Primary</span>" if person.get("is_primary") else ""
    details = [text(person.get(k)) for k in ("title", "email", "phone")]
    shown = " · ".join(escape_text(d) for d in details if d)
    return f"<b>{name}</b>{primary}" + (f" <span class='crm-hint'>{shown}</span>" if shown else "")


def _commitment_html(commitment: Mapping[str, Any], currency: str, zone: str | None) -> str:
    """A commitment's line: fund, amount, status, and when it was committed."""
    status = STATUS_LABELS.get(commitment["status"], commitment["status"])
    day = when_html(commitment.get("committed_on"), zone=zone)
    return (
        f"<b>{escape_text(commitment['fund_name'])}</b> ·"
        f" {escape_text(money(commitment['amount'], currency))} {pills_html(status)}"
        + (f" <span class='crm-hint'>committed {day}</span>" if day else "")
    )


def _event_change(event: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """An activity event in the history's words, when the service gives no sentence."""
    detail = event.get("detail") or [None, None]
    values = [json.loads(v) if isinstance(v, str) else v for v in detail[:2]]
    entry = {
        **event,
        "old_value": values[0] if values else None,
        "new_value": values[1] if len(values) > 1 else None,
    }
    return change_text(entry, dict(labels))


def _zone(zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _local_day(stamp: str, zone: ZoneInfo) -> date | None:
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _day_label(day: date | None, today: date) -> str:
    if day is None:
        return "Earlier"
    if day == today:
        return "Today"
    if (today - day).days == 1:
        return "Yesterday"
    return f"{day:%b} {day.day}, {day.year}"
