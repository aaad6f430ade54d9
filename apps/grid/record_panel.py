"""The record panel: one investor beside the grid — every field, its people, its commitments per
fund, and its history from the audit log with "restore this value"; archive or restore it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import panel as pn

from apps.chrome import table_frame
from apps.formatting import (
    PILL_CSS,
    TEXT,
    Show,
    browser_zone,
    field_html,
    money,
    person,
    pills,
    when_html,
)
from apps.grid.columns import choice_colors
from apps.grid.place import open_record_html
from apps.markup import escape_text
from apps.record.emails import EmailTimeline
from apps.record.history import HistoryList
from apps.tasks.form import TaskForm
from crm_lib import limits, services
from crm_lib.context import Context
from crm_lib.errors import ConflictError

if TYPE_CHECKING:
    from apps.grid.host import GridHost

PEOPLE_COLUMNS = {"id": "Id", "full_name": "Name", "email": "Email", "title": "Title"}
COMMITMENT_COLUMNS = {"fund_name": "Fund", "amount": "Amount", "status": "Status"}
#: A row of the panel that wraps rather than widen the page (the panel is 480 px wide).
WRAP: dict[str, Any] = {"sizing_mode": "stretch_width", "styles": {"flex-wrap": "wrap"}}
#: Amounts arrive as text in each fund's currency (a record's funds may differ in currency).
COMMITMENT_SHOWS: dict[str, Show] = {
    "amount": Show(TEXT.cell, None, "right"),
    "status": pills("commitment_status"),
}


class RecordPanel:
    """Side panel of the grid page for one investor."""

    def __init__(self, page: GridHost) -> None:
        self.page = page
        self.investor_id: int | None = None
        self.record: dict[str, Any] = {}
        self.title = pn.pane.HTML("", sizing_mode="stretch_width", min_width=200)
        self.details = pn.pane.HTML("", sizing_mode="stretch_width", stylesheets=[PILL_CSS])
        self.people_table = self._table(PEOPLE_COLUMNS, height=150)
        self.person_name = pn.widgets.TextInput(
            label="Name", width=130, max_length=limits.max_length("person_name")
        )
        self.person_email = pn.widgets.TextInput(
            label="Email", width=150, max_length=limits.max_length("email")
        )
        self.person_title = pn.widgets.TextInput(
            label="Title", width=110, max_length=limits.max_length("text")
        )
        self.add_person_button = pn.widgets.Button(label="Add person", color="primary")
        self.save_person_button = pn.widgets.Button(label="Save selected person", disabled=True)
        self.remove_person_button = pn.widgets.Button(
            label="Remove selected person", color="danger"
        )
        self.commitments_table = self._table(COMMITMENT_COLUMNS, height=120)
        self.commitments_table.param.update(
            formatters={"Status": COMMITMENT_SHOWS["status"].formatter},
            text_align={"Amount": "right"},
        )
        #: The history and the entry "Restore this value" acts on, chosen by identity (audit
        #: entry id, the investor's version when chosen), as on the record page
        #: (apps/record/history.py); the panel is narrow, so no "Exact time" column.
        self.history = HistoryList(
            lambda *_: self.restore_value(), height=220, hidden=["Exact time"]
        )
        #: the investor's email threads, newest first (apps/record/emails.py)
        self.emails = EmailTimeline(self._read_emails)
        #: The person chosen in the people list (as loaded then: id and version), for the same
        #: reason: a refresh re-sorts the list under a selection kept by position.
        self.chosen_person: dict[str, Any] | None = None
        self._loading_people = False
        self.archive_button = pn.widgets.Button(label="Archive investor", color="danger")
        self.restore_button = pn.widgets.Button(label="Restore investor", color="primary")
        self.close_button = pn.widgets.Button(label="✕ Close", width=80)
        #: "Open record": the record page, opened from where the grid is (apps/grid/place.py)
        self.open_link = pn.pane.HTML("", css_classes=["crm-open-record"], align="center")
        self.add_person_button.on_click(lambda _: self.add_person())
        self.remove_person_button.on_click(lambda _: self.ask_remove_person())
        self.save_person_button.on_click(lambda _: self.save_person())
        self.people_table.param.watch(lambda _: self._person_chosen(), "selection")
        self.archive_button.on_click(lambda _: self.ask_archive())
        self.restore_button.on_click(lambda _: self.set_archived(False))
        self.close_button.on_click(lambda _: setattr(self.page.side, "visible", False))
        #: this investor's open tasks and the form adding one (the grid's way to a task)
        self.tasks = TaskForm(page)
        self.layout = pn.Column(
            pn.Row(self.title, self.open_link, self.close_button, **WRAP),
            self.details,
            pn.pane.Markdown("#### People"),
            self.people_table,
            pn.Row(self.person_name, self.person_email, self.person_title),
            pn.Row(
                self.add_person_button, self.save_person_button, self.remove_person_button, **WRAP
            ),
            pn.pane.Markdown("#### Commitments"),
            self.commitments_table,
            self.tasks,
            pn.pane.Markdown("#### Emails"),
            self.emails.layout,
            pn.pane.Markdown("#### History"),
            self.history.layout,
            pn.Row(self.archive_button, self.restore_button),
            sizing_mode="stretch_width",
            css_classes=["crm-record"],
        )

    @property
    def history_table(self) -> pn.widgets.Tabulator:
        return self.history.table

    @property
    def chosen_entry(self) -> tuple[int, int] | None:
        """(audit entry id, the investor's version when it was chosen), or None."""
        return self.history.chosen

    @staticmethod
    def _table(columns: dict[str, str], height: int) -> pn.widgets.Tabulator:
        return pn.widgets.Tabulator(
            table_frame([], columns),
            stylesheets=[PILL_CSS],
            disabled=True,
            show_index=False,
            selectable=1,
            height=height,
            sizing_mode="stretch_width",
            hidden_columns=["Id", "Field"],
        )

    def refresh(self) -> None:
        if self.investor_id is not None:
            self.show(self.investor_id)

    def _read_emails(self, limit: int, offset: int) -> dict[str, Any] | None:
        investor_id = self.investor_id
        if investor_id is None:
            return None
        return self.page.act(
            lambda ctx: services.investor_emails(
                ctx, investor_id, limit=min(limit, 10), offset=offset
            )
        )

    def show(self, investor_id: int) -> None:
        """Load and show one investor (archived ones too)."""
        loaded = self.page.act(
            lambda ctx: services.get_investor(ctx, investor_id, include_archived=True)
        )
        if loaded is None:
            return
        same_investor = investor_id == self.investor_id
        self.investor_id = investor_id
        investor = loaded["investor"]
        self.record = loaded
        archived = investor["deleted_at"] is not None
        name = escape_text(investor["name"])
        badge = (
            " <span style='color:var(--crm-color-danger-text)'>(archived)</span>"
            if archived
            else ""
        )
        self.title.object = f"<h3 class='crm-record-title'>{name}{badge}</h3>"
        self.tasks.about({"investor_id": investor_id, "investor_name": investor["name"]})
        self.open_link.object = open_record_html(self.page.store, investor_id)
        store = self.page.store
        zone, now = browser_zone(), self.page.runtime.clock.now()
        users = dict(store.users)
        if investor.get("owner_id") not in users and investor.get("owner_name"):
            users[investor["owner_id"]] = investor["owner_name"]  # an archived member
        lines = []  # pre-wrap: a long text's lines show as stored, not run together
        for spec in store.fields.values():
            shown = field_html(
                spec,
                investor.get(spec.key),
                users=users,
                zone=zone,
                now=now,
                colors=choice_colors(spec),
            )
            lines.append(
                f"<tr><th style='text-align:left;padding-right:12px'>{escape_text(spec.label)}</th>"
                f"<td style='white-space:pre-wrap'>{shown}</td></tr>"
            )
        names = store.names
        meta = (
            f"Created by {escape_text(person(investor['created_by'], names))}"
            f" {when_html(investor['created_at'], zone=zone, now=now)}"
            f" · last modified by {escape_text(person(investor['updated_by'], names))}"
            f" {when_html(investor['updated_at'], zone=zone, now=now)}"
        )
        self.details.object = (
            f"<table class='crm-record-fields'>{''.join(lines)}</table>"
            f"<p style='color:var(--crm-color-text-muted);font-size:var(--crm-font-size-xs)'>{meta}</p>"
        )
        self._show_people(loaded["people"], keep=self.chosen_person if same_investor else None)
        currencies = {fund["id"]: fund.get("currency") or "USD" for fund in store.funds}
        commitments = [
            {**c, "amount": money(c["amount"], currencies.get(c["fund_id"], "USD"))}
            for c in loaded["commitments"]
        ]
        self.commitments_table.value = table_frame(
            commitments, COMMITMENT_COLUMNS, COMMITMENT_SHOWS, zone=zone
        )
        if archived:
            self.emails.list.object = (
                "<p class='crm-empty'>Archived: its emails show again once it is restored.</p>"
            )
            self.emails.more_button.visible = False
            self.emails.loaded = False  # restored: read again
        elif not same_investor or not self.emails.loaded:  # a live refresh leaves the mail
            self.emails.refresh(zone)
        labels = {key: spec.label for key, spec in store.fields.items()}
        self.history.show(
            loaded["history"],
            version=int(investor["version"]),
            labels=labels,
            who=lambda actor: person(actor, names),
            zone=zone,
            keep=same_investor,
        )
        self.archive_button.visible = not archived
        self.restore_button.visible = archived

    def _show_people(self, people: list[dict[str, Any]], keep: dict[str, Any] | None) -> None:
        """Show the people and keep the chosen person chosen by id (with the version they had
        when chosen: saving over someone else's later edit is a conflict)."""
        ids = [person["id"] for person in people]
        kept = keep if keep is not None and keep["id"] in ids else None
        self._loading_people = True
        try:
            self.people_table.value = table_frame(people, PEOPLE_COLUMNS)
            self.people_table.selection = [] if kept is None else [ids.index(kept["id"])]
        finally:
            self._loading_people = False
        self.chosen_person = kept
        self.save_person_button.disabled = kept is None

    def _version(self) -> int:
        return int(self.record["investor"]["version"])

    def add_person(self) -> None:
        values = self._person_values()
        investor_id = self.investor_id
        if investor_id is None:
            return
        done = self.page.act(
            lambda ctx: services.add_person(ctx, investor_id, values),
            success=f"Added {values['full_name']}.",
        )
        if done is not None:
            for box in (self.person_name, self.person_email, self.person_title):
                box.value = ""
            self.page.reload()
            self.show(investor_id)

    def _person_values(self) -> dict[str, Any]:
        return {
            "full_name": self.person_name.value,
            "email": self.person_email.value or None,
            "title": self.person_title.value or None,
        }

    def _person_chosen(self) -> None:
        """Selecting a person fills the form, to edit them (name, email, title)."""
        if self._loading_people:
            return
        chosen = self.people_table.selection
        self.save_person_button.disabled = not chosen
        self.chosen_person = self.record["people"][chosen[0]] if chosen else None
        if self.chosen_person is not None:
            person = self.chosen_person
            self.person_name.value = person["full_name"] or ""
            self.person_email.value = person.get("email") or ""
            self.person_title.value = person.get("title") or ""

    def save_person(self) -> None:
        """Save the form into the selected person (their directory entry follows)."""
        person = self.chosen_person
        if person is None or self.investor_id is None:
            self.page._report("Select a person first.", failed=True)
            return
        values = self._person_values()
        done = self.page.act(
            lambda ctx: services.update_person(
                ctx, person["id"], values, expected_version=person["version"]
            ),
            success=f"Saved {values['full_name']}.",
        )
        if done is not None:
            self.chosen_person = None  # now at a new version: choose again to edit again
            self.page.reload()
            self.show(self.investor_id)

    def ask_remove_person(self) -> None:
        """The remove button: confirm first, naming the person."""
        person = self.chosen_person
        if person is None or self.investor_id is None:
            self.page._report("Select a person first.", failed=True)
            return
        self.page.confirm(
            f"Remove {person['full_name']} from this investor?",
            "Remove",
            lambda: self.remove_person(person),
            "They leave this investor and the contacts directory; they are archived, not deleted.",
        )

    def remove_person(self, person: dict[str, Any] | None = None) -> None:
        """Remove ``person`` (default: the chosen one) from the investor shown."""
        person = self.chosen_person if person is None else person
        if person is None or self.investor_id is None:
            self.page._report("Select a person first.", failed=True)
            return
        done = self.page.act(
            lambda ctx: services.remove_person(
                ctx, person["id"], expected_version=person["version"]
            ),
            success=f"Removed {person['full_name']}.",
        )
        if done is not None:
            self.chosen_person = None  # now at a new version: choose again to edit again
            self.page.reload()
            self.show(self.investor_id)

    def restore_value(self) -> None:
        """Set the field of the chosen history entry back to its old value, if the record is
        still at the version it had when the entry was chosen; else say who changed it and
        write nothing (the entry is un-chosen: choosing it again means seeing the new state)."""
        chosen, investor_id = self.chosen_entry, self.investor_id
        if chosen is None or investor_id is None:
            self.page._report("Select a change in the history first.", failed=True)
            return
        audit_id, version = chosen

        def restore(ctx: Context) -> dict[str, Any]:
            return services.restore_value(ctx, audit_id, expected_version=version)

        attempt = self.page._attempt(restore)
        if isinstance(attempt.error, ConflictError):
            error = attempt.error
            when = (error.updated_at or "")[:19].replace("T", " ")
            name = self.record["investor"]["name"]
            self.page._report(
                f"Not restored: {error.updated_by_name or 'someone'} changed {name} at {when} UTC,"
                " after you chose that change. The history now shows the record as it is;"
                " choose the value to restore again.",
                failed=True,
            )
            restored = None
        else:
            restored = self.page._settle(attempt, "Value restored.")
        self.history.forget()
        if restored is not None:
            self.page.reload()
        self.show(investor_id)

    def ask_archive(self) -> None:
        """The archive button: confirm first, naming the investor."""
        if self.investor_id is None:
            return
        name = (self.record or {}).get("investor", {}).get("name") or f"investor {self.investor_id}"
        self.page.confirm(
            f"Archive {name}?",
            "Archive",
            lambda: self.set_archived(True),
            "It leaves every list and view, with its people and commitments; restore it from"
            " the Archived list.",
        )

    def set_archived(self, archived: bool) -> None:
        investor_id, version = self.investor_id, self._version()
        if investor_id is None:
            return
        if archived:
            done = self.page.act(
                lambda ctx: services.archive_investor(ctx, investor_id, expected_version=version),
                success="Archived; find it in the Archived list.",
            )
        else:
            done = self.page.act(
                lambda ctx: services.restore_investor(ctx, investor_id, expected_version=version),
                success="Restored.",
            )
        if done is not None:
            self.page.reload()
        self.show(investor_id)
