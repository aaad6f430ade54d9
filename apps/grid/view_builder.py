"""The view builder of the grid: list, filter tree (AND/OR groups, nested), sorts, hidden and
frozen columns; apply it unsaved, save it as a new view or into the current one, rename,
share/unshare, duplicate, delete, and make it your default.

The tree is kept as plain data (the same JSON the service stores); each widget writes its value
straight back into the data. Widgets are built from the data when a view is loaded; after that
each change updates the widgets in place: adding or removing a condition, group or sort inserts
or removes just its row, and a new field or operator replaces just that condition's operator and
value widgets. Nothing else on the panel is redrawn, so a click meanwhile is not lost.

The CSV, JSON and XLSX exports write every row of the view (seconds at 100,000 investors): each
is built on a worker thread (:meth:`apps.chrome.UserPage.act_async`), with the export buttons
disabled and "Working…" shown, so other sessions are served meanwhile.
"""

from __future__ import annotations

import copy
import io
from typing import TYPE_CHECKING, Any

import panel as pn

from apps.chrome import Working
from apps.grid.filter_editor import FilterTreeEditing, drop, wrapping
from apps.grid.store import EMPTY_VIEW, LISTS
from apps.markup import html_labels

if TYPE_CHECKING:
    from apps.grid.host import GridHost

from crm_lib import limits, services
from crm_lib.context import Context

LIST_CHOICES = {label: key for key, label in LISTS.items() if key != "archived"}


class ViewBuilder(FilterTreeEditing):
    """Side panel of the grid page for the current view."""

    def __init__(self, page: GridHost) -> None:
        self.page = page
        self.filter_source = page.store
        self.spec: dict[str, Any] = copy.deepcopy(EMPTY_VIEW)
        self.list_choice = pn.widgets.Select(
            label="List", options=LIST_CHOICES, value="all", css_classes=["crm-view-list"]
        )
        self.tree_box = pn.Column(sizing_mode="stretch_width")
        self.sorts_box = pn.Column(sizing_mode="stretch_width")
        self.hidden = pn.widgets.MultiChoice(label="Hidden columns", options={})
        self.frozen = pn.widgets.MultiChoice(label="Frozen (pinned) columns", options={})
        self.apply_button = pn.widgets.Button(label="Apply", color="primary")
        self.name_box = pn.widgets.TextInput(
            label="View name",
            css_classes=["crm-view-name"],
            max_length=limits.max_length("view_name"),
        )
        self.shared_box = pn.widgets.Checkbox(label="Shared with the team")
        self.save_new_button = pn.widgets.Button(label="Save as new view", color="primary")
        self.save_button = pn.widgets.Button(label="Save changes to this view")
        self.duplicate_button = pn.widgets.Button(label="Duplicate")
        self.delete_button = pn.widgets.Button(label="Delete view", color="danger")
        self.default_button = pn.widgets.Button(label="Make it my default")
        self.csv_download = pn.widgets.FileDownload(
            callback=self.csv_export, filename="investors.csv", label="CSV", color="light"
        )
        self.json_download = pn.widgets.FileDownload(
            callback=self.json_export, filename="investors.json", label="JSON", color="light"
        )
        self.xlsx_download = pn.widgets.FileDownload(
            callback=self.xlsx_export, filename="investors.xlsx", label="XLSX", color="light"
        )
        self.exporting = Working(
            lambda: (self.csv_download, self.json_download, self.xlsx_download)
        )
        self.apply_button.on_click(lambda _: self.apply())
        self.save_new_button.on_click(lambda _: self.save_new())
        self.save_button.on_click(lambda _: self.save())
        self.duplicate_button.on_click(lambda _: self.duplicate())
        self.delete_button.on_click(lambda _: self.ask_delete())
        self.default_button.on_click(lambda _: self.make_default())
        self.layout = pn.Column(
            pn.pane.Markdown("### View"),
            self.list_choice,
            pn.pane.Markdown("**Filter**"),
            self.tree_box,
            pn.pane.Markdown("**Sort**"),
            self.sorts_box,
            self.hidden,
            self.frozen,
            self.apply_button,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"),
            self.name_box,
            self.shared_box,
            wrapping(self.save_new_button, self.save_button),
            wrapping(self.duplicate_button, self.delete_button, self.default_button),
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"),
            pn.pane.Markdown("**Export what the grid shows**"),
            wrapping(self.csv_download, self.json_download, self.xlsx_download),
            self.exporting.layout,
            sizing_mode="stretch_width",
            css_classes=["crm-view-builder"],
        )

    # -- exports -----------------------------------------------------------------------------
    async def export(self, fmt: str) -> io.BytesIO:
        """A download's file (CSV, JSON or XLSX of what the grid shows now), written on a worker
        thread with the export buttons disabled meanwhile."""
        query = self.page._export_query()
        out = io.BytesIO()
        self.exporting.start(f"Writing the {fmt.upper()} file")
        try:
            written = await self.page.act_async(
                lambda ctx: services.write_export(ctx, fmt, out, bom=True, **query)
            )
        finally:
            self.exporting.stop()
        if written is None:  # failed, and said why: no half-written file
            return io.BytesIO()
        out.seek(0)
        return out

    async def csv_export(self) -> io.BytesIO:
        return await self.export("csv")

    async def json_export(self) -> io.BytesIO:
        return await self.export("json")

    async def xlsx_export(self) -> io.BytesIO:
        return await self.export("xlsx")

    # -- loading -----------------------------------------------------------------------------
    def refresh(self) -> None:
        self.load(self.page.store.view)

    def load(self, view: dict[str, Any]) -> None:
        self.spec = copy.deepcopy({**EMPTY_VIEW, **view})
        if not self.spec.get("filters") or "conditions" not in self.spec["filters"]:
            self.spec["filters"] = {"op": "and", "conditions": []}
        self.list_choice.value = self.spec["list_membership"]
        # MultiChoice draws its labels as HTML (Choices.js): escaped; the values stay field keys
        labels = html_labels({spec.label: key for key, spec in self.page.store.fields.items()})
        self.hidden.options = {k: v for k, v in labels.items() if v != "name"}
        self.frozen.options = labels
        self.hidden.value = [k for k in self.spec["hidden_fields"] if k in labels.values()]
        self.frozen.value = [k for k in self.spec["frozen_fields"] if k in labels.values()]
        self.name_box.value = self.spec.get("name") or ""
        self.shared_box.value = bool(self.spec.get("shared", True))
        saved = self.spec.get("id") is not None
        for button in (self.save_button, self.duplicate_button, self.delete_button):
            button.disabled = not saved
        self.render()

    # -- the filter tree ---------------------------------------------------------------------
    def render(self) -> None:
        """Build every widget of the filter tree and the sorts from the data (a view loaded)."""
        self.tree_box.objects = [
            self._group(self.spec["filters"], depth=1, parent=None, holder=self.tree_box)
        ]
        self.sorts_box.objects = [
            *(self._sort_row(s) for s in self.spec["sorts"]),
            self._add_sort(),
        ]

    def add_filter_for(self, field_key: str) -> None:
        """Add a condition on ``field_key`` to the view's top group (the grid's header menu);
        the user then picks its operator and value and presses Apply."""
        if field_key in self.page.store.fields:
            if not self.tree_box.objects:
                self.render()
            self._add_condition(self.spec["filters"], self.tree_box[0], field_key)

    def _sort_row(self, sort: dict[str, str]) -> pn.Row:
        field = pn.widgets.Select(options=self._field_options(), value=sort["field"], width=160)
        direction = pn.widgets.Select(
            options={"A → Z / 1 → 9": "asc", "Z → A / 9 → 1": "desc"},
            value=sort.get("direction", "asc"),
            width=130,
        )
        remove = pn.widgets.Button(label="✕", width=32, color="light")
        field.param.watch(lambda e: sort.__setitem__("field", e.new), "value")
        direction.param.watch(lambda e: sort.__setitem__("direction", e.new), "value")
        row = wrapping(field, direction, remove, css_classes=["crm-sort"])
        remove.on_click(lambda _: drop(self.spec["sorts"], sort, self.sorts_box, row))
        return row

    def _add_sort(self) -> pn.widgets.Button:
        button = pn.widgets.Button(label="+ Sort", color="light", css_classes=["crm-add-sort"])
        button.on_click(lambda _: self._append_sort())
        return button

    def _append_sort(self) -> None:
        sort = {"field": "name", "direction": "asc"}
        self.spec["sorts"].append(sort)
        self.sorts_box.insert(len(self.sorts_box) - 1, self._sort_row(sort))

    # -- actions -----------------------------------------------------------------------------
    def current(self) -> dict[str, Any]:
        """The view as built: list, filters, sorts, hidden and frozen columns."""
        view = copy.deepcopy(self.spec)
        view.update(
            list_membership=self.list_choice.value,
            hidden_fields=list(self.hidden.value),
            frozen_fields=list(self.frozen.value),
        )
        return view

    def _settings(self) -> dict[str, Any]:
        view = self.current()
        return {
            key: view[key]
            for key in (
                "list_membership",
                "filters",
                "sorts",
                "hidden_fields",
                "frozen_fields",
                "widths",
                "field_order",
                "group_by",
            )
        }

    def apply(self) -> bool:
        """Show the built view in the grid (unsaved), if the service accepts its filter."""
        view = self.current()
        checked = self.page.act(lambda ctx: services.grid_page(ctx, view, page_size=1))
        if checked is None:
            return False
        self.page.apply_view(view)
        return True

    def save_new(self) -> None:
        values = {**self._settings(), "name": self.name_box.value, "shared": self.shared_box.value}
        saved = self.page.act(
            lambda ctx: services.create_view(ctx, values), success=f"Saved view {values['name']}."
        )
        self._after_save(saved)

    def save(self) -> None:
        view_id, version = self.spec.get("id"), self.spec.get("version")
        values = {**self._settings(), "name": self.name_box.value, "shared": self.shared_box.value}

        def update(ctx: Context) -> dict[str, Any]:
            return services.update_view(ctx, view_id, values, expected_version=version)

        self._after_save(self.page.act(update, success="View saved."))

    def duplicate(self) -> None:
        view_id = self.spec.get("id")
        copy_ = self.page.act(
            lambda ctx: services.duplicate_view(ctx, view_id), success="View duplicated."
        )
        self._after_save(copy_)

    def ask_delete(self) -> None:
        """The delete button: confirm first, naming the view."""
        if self.spec.get("id") is None:
            self.page._report("This view is not saved: there is nothing to delete.", failed=True)
            return
        self.page.confirm(
            f"Delete the view {self.spec.get('name') or ''}?",
            "Delete view",
            self.delete,
            "It disappears for everyone it is shared with. The investors in it are not changed.",
        )

    def delete(self) -> None:
        view_id, version = self.spec.get("id"), self.spec.get("version")
        done = self.page.act(
            lambda ctx: services.archive_view(ctx, view_id, expected_version=version) or True,
            success="View deleted.",
        )
        if not done:
            return
        self.page.refresh_views()
        self.page.open_view(None)
        self.load(self.page.store.view)

    def make_default(self) -> None:
        view_id = self.spec.get("id")
        self.page.act(
            lambda ctx: services.set_default_view(ctx, view_id),
            success="This view now opens first for you.",
        )

    def _after_save(self, saved: dict[str, Any] | None) -> None:
        if saved is None:
            return
        self.page.refresh_views(select=saved["id"])
        self.page.apply_view({**EMPTY_VIEW, **saved})
        self.load(self.page.store.view)
