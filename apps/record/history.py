"""A record's history with "Restore this value", bound to the entry chosen, not to a row.

The rule is the record panel's (apps/grid/record_panel.py): a choice is remembered as (audit
entry id, the record's version when it was chosen). The history is newest first, so every
refresh shifts rows under a selection kept by position; keeping the id finds the same entry
wherever it moved, and keeping the version makes a restore after someone else's change a
conflict instead of a restore over something the user never saw. The words of each entry come
from the record panel too (:func:`apps.record.changes.change_text`), so both say the same thing.

This class holds only the choosing; the page runs the restore through the services and reports.
The record page and the grid's record panel both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import panel as pn

from apps.chrome import table_frame
from apps.formatting import when
from apps.record.changes import change_text

COLUMNS = {
    "id": "Id",
    "at": "When",
    "exact": "Exact time",
    "actor": "Who",
    "change": "Change",
    "field": "Field",
}
INVESTORS = "fundraising_investors"


def restorable(entry: Mapping[str, Any]) -> bool:
    """Whether "Restore this value" can act on an entry: a change of one investor field (the
    service refuses the rest, and says why, but the button should not offer them)."""
    return entry["entity"] == INVESTORS and entry["action"] == "update" and bool(entry["field"])


class HistoryList:
    """The history table of one record, the entry chosen in it, and the restore button."""

    def __init__(
        self,
        restore: Callable[[int, int], None],
        height: int = 320,
        hidden: Sequence[str] = (),
    ) -> None:
        """``restore(audit_id, version)`` is called with the chosen entry on a click; ``hidden``
        names more columns to leave out (a narrow side panel drops "Exact time")."""
        self.table = pn.widgets.Tabulator(
            table_frame([], COLUMNS),
            disabled=True,
            show_index=False,
            selectable=1,
            height=height,
            sizing_mode="stretch_width",
            hidden_columns=["Id", "Field", *hidden],
            layout="fit_data_stretch",
            css_classes=["crm-record-history"],
        )
        self.button = pn.widgets.Button(
            label="Restore this value", disabled=True, css_classes=["crm-restore-value"]
        )
        self.hint = pn.pane.HTML(
            "<span class='crm-hint'>Choose a changed field in the history to put its earlier"
            " value back.</span>",
            sizing_mode="stretch_width",  # wraps in a narrow panel instead of widening the page
        )
        #: (audit entry id, the record's version when the entry was chosen)
        self.chosen: tuple[int, int] | None = None
        self.version: int | None = None
        self._entries: list[dict[str, Any]] = []
        self._loading = False
        self.table.param.watch(lambda _: self._chosen_in_table(), "selection")
        self._restore = restore
        self.button.on_click(lambda _: self.restore())
        self.layout = pn.Column(
            self.table,
            pn.Row(
                self.button, self.hint, sizing_mode="stretch_width", styles={"flex-wrap": "wrap"}
            ),
            sizing_mode="stretch_width",
        )

    def show(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        version: int,
        labels: Mapping[str, str],
        who: Callable[[str], str],
        zone: str | None = None,
        keep: bool = True,
    ) -> None:
        """Show ``entries`` (``services.investor_history``, newest first) of a record now at
        ``version``; with ``keep``, the chosen entry stays chosen by its id (and keeps the
        version it was chosen at), wherever the refresh moved it."""
        self._entries = [dict(e) for e in entries]
        rows = []
        for entry in self._entries:
            relative, exact = when(entry["at"], zone=zone)
            actor = who(entry["actor"])
            if entry.get("import_file"):
                actor += f" (import of {entry['import_file']})"
            rows.append(
                {
                    "id": entry["id"],
                    "at": relative,
                    "exact": exact,
                    "actor": actor,
                    "change": change_text(entry, dict(labels)),
                    "field": entry.get("field") or "",
                }
            )
        ids = [row["id"] for row in rows]
        kept = self.chosen if keep and self.chosen is not None and self.chosen[0] in ids else None
        self._loading = True
        try:
            self.table.value = table_frame(rows, COLUMNS)
            self.table.selection = [] if kept is None else [ids.index(kept[0])]
        finally:
            self._loading = False
        self.version = version
        self.chosen = kept
        self._update_button()

    def choose(self, audit_id: int) -> None:
        """Choose an entry by id, as a click on its row does."""
        ids = [entry["id"] for entry in self._entries]
        self.table.selection = [ids.index(audit_id)]

    def forget(self) -> None:
        """Un-choose (after a restore, or a refused one: choosing again means seeing anew)."""
        self.chosen = None
        self._loading = True
        try:
            self.table.selection = []
        finally:
            self._loading = False
        self._update_button()

    def _chosen_in_table(self) -> None:
        if self._loading:
            return
        selection = self.table.selection
        if not selection or self.version is None:
            self.chosen = None
        else:
            audit_id = int(self.table.value["Id"].iloc[selection[0]])
            self.chosen = (audit_id, self.version)
        self._update_button()

    def _update_button(self) -> None:
        entry = self._entry(self.chosen[0]) if self.chosen else None
        self.button.disabled = entry is None or not restorable(entry)

    def _entry(self, audit_id: int) -> dict[str, Any] | None:
        return next((e for e in self._entries if e["id"] == audit_id), None)

    def restore(self) -> None:
        """Restore the chosen entry (what the button does; nothing when none is chosen)."""
        if self.chosen is not None:
            self._restore(*self.chosen)
