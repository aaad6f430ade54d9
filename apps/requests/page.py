"""Feature requests: the team files and votes; admins set the status."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, set_choices, table_frame
from apps.formatting import CHECK, PLAIN, Show, label, people_names, person, pills
from apps.forms import FormErrors
from crm_lib import limits, services
from crm_lib.auth.permissions import allowed
from crm_lib.services.feature_requests import STATUSES

COLUMNS = {
    "id": "Id",
    "title": "Title",
    "status": "Status",
    "votes": "Votes",
    "voted": "You voted",
    "created_by": "Filed by",
    "body": "Details",
}
SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "status": pills("request_status"),
    "votes": PLAIN,
    "voted": CHECK,
}


class RequestsPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[dict[str, Any]] = []
        self.table = read_only_table(
            COLUMNS, SHOWS, empty="No feature requests yet. File the first one below."
        )
        self.title = pn.widgets.TextInput(
            label="What would help?",
            sizing_mode="stretch_width",
            max_length=limits.max_length("feature_title"),
        )
        self.body = pn.widgets.TextAreaInput(
            label="Details (optional)",
            height=90,
            sizing_mode="stretch_width",
            max_length=limits.max_length("feature_body"),
        )
        self.form = FormErrors({"title": self.title, "body": self.body})
        self.choice = pn.widgets.Select(label="Request", options={})
        self.status_choice = pn.widgets.Select(
            label="Status", options={label("request_status", s): s for s in STATUSES}
        )
        self.file_button = pn.widgets.Button(label="File request", color="primary")
        self.vote_button = pn.widgets.Button(label="Vote / withdraw vote")
        self.status_button = pn.widgets.Button(label="Set status")
        self.file_button.on_click(lambda _: self.file())
        self.vote_button.on_click(lambda _: self.toggle_vote())
        self.status_button.on_click(lambda _: self.set_status())
        self.refresh()

    @property
    def is_admin(self) -> bool:
        return self.session is not None and allowed(
            self.session.user["role"], "manage_feature_requests"
        )

    def refresh(self) -> None:
        loaded = self.act(
            lambda ctx: (services.list_feature_requests(ctx), services.list_users(ctx))
        )
        if loaded is None:
            return
        rows, users = loaded
        self.rows = rows
        names = people_names(users)
        self.table.value = table_frame(
            [{**r, "created_by": person(r["created_by"], names)} for r in rows], COLUMNS, SHOWS
        )
        set_choices(self.choice, {f"#{r['id']} {r['title']}": r["id"] for r in rows})

    def _selected(self) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["id"] == self.choice.value), None)

    def file(self) -> None:
        made = self.act(
            lambda ctx: services.create_feature_request(ctx, self.title.value, self.body.value),
            success="Filed, with your vote.",
            form=self.form,
        )
        if made is not None:
            self.title.value = self.body.value = ""
            self.refresh()
            self.choice.value = made["id"]

    def toggle_vote(self) -> None:
        row = self._selected()
        if row is not None:
            self.act(
                lambda ctx: services.update_feature_request(ctx, row["id"], vote=not row["voted"]),
                success="Vote withdrawn." if row["voted"] else "Voted.",
            )
            self.refresh()

    def set_status(self) -> None:
        row = self._selected()
        if row is not None:
            status = self.status_choice.value
            self.act(
                lambda ctx: services.update_feature_request(
                    ctx, row["id"], status=status, expected_version=row["version"]
                ),
                success=f"Marked {label('request_status', status).lower()}.",
            )
            self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        admin_row = pn.Row(self.status_choice, self.status_button, visible=self.is_admin)
        return self.frame(
            "/requests",
            "Feature requests",
            self.form.field("title"),
            self.form.field("body"),
            self.file_button,
            pn.pane.Markdown("## Requests, most votes first"),
            self.table,
            pn.Row(self.choice, self.vote_button),
            admin_row,
        )
