"""The activity page: one stream of what happened — record changes, imports, backups, restores
and job runs — newest first, filterable by user, investor, kind and date. Everyone on the team
sees it; the library decides what each event says."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, table_frame
from crm_lib import limits, services
from crm_lib.services.activity import KINDS

COLUMNS = {"at": "When (UTC)", "kind": "Kind", "actor": "Who", "summary": "What"}
LIMIT = 200


class ActivityPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = pn.widgets.TextInput(
            label="Who (email)", width=220, max_length=limits.max_length("email")
        )
        self.investor = pn.widgets.IntInput(label="Investor id", value=None, start=1, width=120)
        self.kinds = pn.widgets.MultiChoice(label="Kinds", options=list(KINDS), value=list(KINDS))
        self.since = pn.widgets.DatePicker(label="From", width=140)
        self.until = pn.widgets.DatePicker(label="To (inclusive)", width=140)
        self.table = read_only_table(COLUMNS)
        self.table.height = 640
        self.table.css_classes = ["crm-activity"]
        for widget in (self.user, self.investor, self.kinds, self.since, self.until):
            widget.param.watch(lambda _: self.refresh(), "value")
        self.refresh()

    def refresh(self) -> None:
        since = (
            datetime.combine(self.since.value, time(0), tzinfo=UTC) if self.since.value else None
        )
        until = (
            datetime.combine(self.until.value, time(23, 59, 59, 999999), tzinfo=UTC)
            if self.until.value
            else None
        )
        query = {
            "actor": self.user.value or None,
            "investor_id": self.investor.value,
            "kinds": tuple(self.kinds.value) or KINDS,
            "since": since,
            "until": until,
            "limit": LIMIT,
        }
        events = self.act(lambda ctx: services.activity(ctx, **query))
        if events is None:
            return
        for event in events:
            event["at"] = event["at"][:19].replace("T", " ")
        self.table.value = table_frame(events, COLUMNS)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/activity",
            "Activity",
            pn.Row(self.user, self.investor, self.since, self.until),
            self.kinds,
            self.table,
        )
