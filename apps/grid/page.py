"""The grid page: the team's master table of investors, a page at a time, edited in place.

"Windowed" Tabulator (../shared/notes/panel.md): the widget only ever holds the current page;
paging, sorting (clicked headers) and header filters become the view's SQL through
``services.grid_page``. Each edit saves at once through the service layer with the version the
cell was read at; a conflict shows who changed the record and when and puts the current value
back. Other open grids see committed changes through :class:`apps.grid.live.GridHub`.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd
import panel as pn

from apps.chrome import UserPage, set_choices
from apps.formatting import money, plural, text
from apps.grid.bridge import TABLE_OPTIONS, GridBridge
from apps.grid.fields_panel import FieldsPanel
from apps.grid.import_panel import ImportPanel
from apps.grid.live import GridHub
from apps.grid.outcome import Outcome
from apps.grid.place import return_to_place, starting_view
from apps.grid.readouts import ACTIVE_CSS, active_html, group_headers, groupable, totals_text
from apps.grid.record_panel import RecordPanel
from apps.grid.saving import save_patiently, state_html
from apps.grid.store import (
    EMPTY_VIEW,
    LISTS,
    OPEN,
    PAGE_SIZES,
    GridStore,
    PageRead,
    PageRequest,
    column_widths,
    read_page,
    same_cell,
)
from apps.grid.table_actions import TableActions
from apps.grid.view_builder import ViewBuilder
from apps.links import grid_link
from apps.markup import column_titles
from apps.pipeline.proposal import propose_commitment
from apps.runtime import Runtime, run_edit, run_read
from apps.shell import shell
from crm_lib import limits, services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, CRMError, NotAuthenticated, database_failure
from crm_lib.events import Change
from crm_lib.grid.change_scope import PageRefresh, page_refresh
from crm_lib.grid.ordered_ids import ScanNeeded, without_scans
from crm_lib.services.grid import PEOPLE
from crm_lib.services.pipeline_grid import EXPECTED_PREFIX, STAGE_PREFIX

log = logging.getLogger(__name__)
#: Columns whose changes alone are not redrawn (see GridPage._patch_differences).
SILENT_COLUMNS = frozenset({"version", "updated_at", "updated_by"})
#: How long remote changes wait for an open editor before they are shown anyway.
EDIT_GRACE_S = 20.0
#: Keys of the pipeline columns (crm_lib.services.pipeline_grid).
PIPELINE_PREFIXES = (STAGE_PREFIX, EXPECTED_PREFIX)
#: Changes after which the columns may differ too; "fundraising_state" is a restored backup.
STRUCTURAL = frozenset(
    {"grid_fields", "fundraising_funds", "users", "fundraising_state", "pipeline_stages"}
)
#: Two clicks on one cell this close together are a double click (Tabulator opens the editor).
DOUBLE_CLICK_S = 0.6
GRID_CSS = """
.crm-pill { border-radius: var(--crm-radius-pill); padding: 1px 8px; margin-right: 2px;
  font-size: var(--crm-font-size-xs); color: var(--crm-pill-text); }
.tabulator-row.tabulator-selected { background: var(--crm-color-selected) !important; }
.tabulator-row .tabulator-cell { white-space: nowrap !important; overflow: hidden;
  text-overflow: ellipsis; }
.tabulator-header-popup-button::before { content: "⋮"; font-weight: 700; }
.tabulator-col:not([tabulator-field]) .tabulator-header-popup-button,
.tabulator-col[tabulator-field="open"] .tabulator-header-popup-button { display: none; }
"""


class GridPage(TableActions, UserPage):
    """One user's grid session."""

    def __init__(
        self, runtime: Runtime, pages: Any = None, hub: GridHub | None = None, **kwargs: Any
    ) -> None:
        super().__init__(runtime, pages, **kwargs)
        self.store = GridStore()
        self.document = (
            pn.state.curdoc if pn.state.curdoc and pn.state.curdoc.session_context else None
        )
        self.views: list[dict[str, Any]] = []
        #: (investor id, column, version, when) of the last cell clicked (selected)
        self._clicked: tuple[int, str, int, float] | None = None
        #: (investor id, version, when) of the cell whose editor a double click opened
        self._editing: tuple[int, int, float] | None = None
        #: Times the server changed the table's cells (a redraw or a patch), and that count at
        #: the last click: an edit committed after a redraw may have lost its typed value.
        self._redraws = 0
        self._totals_wanted = 0  # the newest footer totals asked for (older ones are dropped)
        self._reads_wanted = 0  # the newest page read asked for (older ones are dropped)
        self._columns_owed = False  # columns were read: configure the table with the next page
        self._redraws_at_click = 0
        #: The table as the server last sent it: a cell that differs from it now was typed in
        #: the browser and its edit event is on its way, so a redraw must not put it back.
        self._sent: pd.DataFrame | None = None
        self._pending_remote: bool | None = None  # deferred remote changes (True: fields too)
        self._table_signature: tuple = ()
        self.list_tabs = pn.widgets.RadioButtonGroup(
            options=dict((label, key) for key, label in LISTS.items()),
            value="main",
            color="light",
            css_classes=["crm-lists"],
        )
        self.view_choice = pn.widgets.Select(
            label="View",
            options={"All investors": 0},
            value=0,
            width=220,
            css_classes=["crm-view-choice"],
        )
        self.search_box = pn.widgets.TextInput(
            label="Search",
            placeholder="Search name, location, notes",
            max_length=limits.max_length("search"),
            width=260,
            css_classes=["crm-search"],
        )
        self.new_name = pn.widgets.TextInput(
            label="New investor",
            width=200,
            css_classes=["crm-new-name"],
            max_length=limits.max_length("investor_name"),
        )
        self.add_button = pn.widgets.Button(label="+ Add investor", color="primary", align="end")
        #: "Archive selected" on the lists, "Restore selected" on the Archived list
        self.rows_button = pn.widgets.Button(label="Archive selected", align="end")
        self.fields_button = pn.widgets.Button(label="⚙ Fields", align="end")
        self.import_button = pn.widgets.Button(label="⇪ Import", align="end")
        self.view_button = pn.widgets.Button(
            label="☰ View: filter, sort, columns, export", align="end"
        )
        #: counts, totals and the page; "Saving…"/"Saved" after an edit (one pane: every Bokeh
        #: model costs a new session ~6 ms)
        self.summary = pn.pane.HTML(
            "", css_classes=["crm-summary"], styles={"margin-left": "auto"}, align="end"
        )
        self.save_text = ""
        self.prev_button = pn.widgets.Button(label="◀", width=40)
        self.next_button = pn.widgets.Button(label="▶", width=40)
        self.page_size_choice = pn.widgets.Select(options=list(PAGE_SIZES), value=50, width=80)
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(),
            pagination=None,
            show_index=False,
            selectable="checkbox",
            sortable=True,
            layout="fit_data_fill",
            height=620,
            sizing_mode="stretch_width",
            # a spreadsheet's keyboard, copy and paste of ranges, the header menu (bridge.py)
            configuration=TABLE_OPTIONS,
            movable_columns=True,
            stylesheets=[GRID_CSS],
        )
        #: the footer, and the table's header menu, drags, pastes and kept edits (bridge.py)
        self.bridge = GridBridge(
            self._on_bridge,
            user=str((self.session.user if self.session else {}).get("email", "")),
            can_edit_fields=True,
            sizing_mode="stretch_width",
            height=28,
        )
        #: what filters and sorts the grid now, beside a button that clears the header's
        self.active_note = pn.pane.HTML(
            "", css_classes=["crm-active-filters"], margin=(0, 8), stylesheets=[ACTIVE_CSS]
        )
        self.clear_button = pn.widgets.Button(
            label="Clear filters", visible=False, css_classes=["crm-clear-filters"]
        )
        self.undo_button = pn.widgets.Button(
            label="↶ Undo paste", visible=False, css_classes=["crm-undo-paste"]
        )
        #: after a conflict: apply what the user typed over the other person's change
        self.retry_button = pn.widgets.Button(
            label="Apply my edit", visible=False, css_classes=["crm-retry-edit"]
        )
        self._retry: tuple[str, int, Any] | None = None
        #: the edits that put back the last paste (services.update_cells), and what it was
        self._undo: tuple[list[services.CellEdit], str] | None = None
        # Side panels are built when first opened: most sessions never open some of them, and
        # their widgets would cost a new session ~100 ms of Bokeh models each.
        self._record: RecordPanel | None = None
        self._fields_panel: FieldsPanel | None = None
        self._view_builder: ViewBuilder | None = None
        self._import_panel: ImportPanel | None = None
        self.side = pn.Column(
            width=480,
            visible=False,
            styles={"border-left": "1px solid var(--crm-color-border)", "padding-left": "8px"},
        )
        self._wire()
        self._start()
        if hub is not None:
            forget = hub.register(self)
            if self.document is not None:
                pn.state.on_session_destroyed(lambda _ctx: forget())

    @property
    def record(self) -> RecordPanel:
        if self._record is None:
            self._record = RecordPanel(self)
        return self._record

    @property
    def fields_panel(self) -> FieldsPanel:
        if self._fields_panel is None:
            self._fields_panel = FieldsPanel(self)
        return self._fields_panel

    @property
    def view_builder(self) -> ViewBuilder:
        if self._view_builder is None:
            self._view_builder = ViewBuilder(self)
        return self._view_builder

    @property
    def import_panel(self) -> ImportPanel:
        if self._import_panel is None:
            self._import_panel = ImportPanel(self)
        return self._import_panel

    # -- setup -------------------------------------------------------------------------------
    def _wire(self) -> None:
        self.list_tabs.param.watch(lambda e: self.show_list(e.new), "value")
        self.view_choice.param.watch(lambda e: self.open_view(e.new), "value")
        self.search_box.param.watch(lambda e: self.set_search(e.new), "value")
        self.add_button.on_click(lambda _: self.add_investor(self.new_name.value))
        self.rows_button.on_click(lambda _: self.ask_rows_action())
        self.fields_button.on_click(lambda _: self.show_side(self.fields_panel))
        self.view_button.on_click(lambda _: self.show_side(self.view_builder))
        self.import_button.on_click(lambda _: self.show_side(self.import_panel))
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(+1))
        self.page_size_choice.param.watch(lambda e: self.set_page_size(e.new), "value")
        self.table.param.watch(self._on_header, ["sorters", "filters"])
        self.table.on_edit(self._on_edit)
        self.table.on_click(self._on_cell_click)
        self.table.param.watch(self._show_count, "selection")
        self.clear_button.on_click(lambda _: self.clear_filters())
        self.undo_button.on_click(lambda _: self.undo_paste())
        self.retry_button.on_click(lambda _: self.retry_edit())

    def _start(self) -> None:
        link = grid_link()  # ?list=<tab>&preset=<name>, as apps.links.grid_url writes them

        def load(ctx: Context) -> dict[str, Any] | None:
            self.views = services.list_views(ctx)
            if link.ask is not None:  # "Open in grid" on the Ask page: a temporary view
                ids = services.asked_investor_ids(ctx, link.ask)
                return dict(EMPTY_VIEW, list_membership="all", only_ids=ids, answer=link.ask)
            preset = services.grid_preset(ctx, link.preset) if link.preset else None
            return preset or services.default_view(ctx)

        start = self.act(load)
        view = (
            {**EMPTY_VIEW, **start}
            if start is not None
            else dict(EMPTY_VIEW, list_membership="main")
        )
        membership = view["list_membership"] if view["list_membership"] in LISTS else "all"
        membership = link.list_key or membership
        if not link.preset and link.ask is None:  # back from a record page: its view
            view, membership = starting_view(self.views, view, membership)
        self.store.param.update(view=view, list_key=membership)
        self.list_tabs.value = membership
        self._set_view_choices()
        self.reload(columns=True)
        return_to_place(self)  # ...and its search, sorts and page
        investor = _query_int("investor")
        if investor is not None:
            self.open_record(investor)

    # -- reading -----------------------------------------------------------------------------
    def reload(self, *, columns: bool = False) -> None:
        """Re-read the page (and the columns, when fields, funds or the view's layout changed).

        Served, a page that needs a scan of every investor (a filter, search or sort not read
        since the data changed: a second at a million investors) is read on a read thread
        (``apps.runtime.READ_WORK``) and shown when it arrives, with the table marked loading
        meanwhile; on the event loop it held up every other session's pages and edits. A
        remembered page (:mod:`crm_lib.grid.ordered_ids`) is read here, in a millisecond or two.
        """
        columns = columns or bool(self._pending_remote)
        self._pending_remote = None
        self._columns_owed = self._columns_owed or columns
        self._reads_wanted += 1
        served = self.document is not None

        def load(ctx: Context) -> PageRead | PageRequest:
            if columns or not self.store.columns:
                self.store.load_columns(ctx)
            request = self.store.page_request()
            if not served:
                return read_page(ctx, request)
            try:
                with without_scans():
                    return read_page(ctx, request)
            except ScanNeeded:
                return request

        read = self.act(load)
        if read is None:
            self.table.loading = False
            return
        if isinstance(read, PageRequest):
            self.table.loading = True
            pn.state.execute(partial(self._read_off_loop, self._reads_wanted, read))
            return
        self._show_read(read)

    async def _read_off_loop(self, wanted: int, request: PageRequest) -> None:
        outcome = await run_read(self._run, lambda ctx: read_page(ctx, request))
        self.on_loop(partial(self._show_read_off_loop, wanted, outcome))

    def _show_read_off_loop(self, wanted: int, outcome: Outcome) -> None:
        """Show a page read on a read thread, unless a newer read was asked for since (that
        one shows its own page; this one would put back rows the person has moved on from)."""
        if wanted != self._reads_wanted:
            return
        if outcome.ended or outcome.error is not None:
            self.table.loading = False
            self._report(outcome.error.message if outcome.error else "", failed=True)
            if outcome.ended and pn.state.location is not None:
                pn.state.location.reload = True
            return
        self._show_read(outcome.result)

    def _show_read(self, read: PageRead) -> None:
        self.table.loading = False
        self.store.show(read)
        configured = self._columns_owed and self._configure_table()
        self._columns_owed = False
        self._show_page(frame=self.table.value if configured else None)

    def _configure_table(self) -> bool:
        """Set columns, titles, editors and the view's layout, unless nothing about them changed
        (a redraw closes any open editor, so it is not done for nothing)."""
        store, view = self.store, self.store.view
        signature = (
            tuple((c.key, c.title) for c in store.columns),
            tuple((k, s.type, repr(s.options), s.formula) for k, s in store.fields.items()),
            tuple(sorted(store.users.items())),
            repr([view.get(k) for k in ("hidden_fields", "frozen_fields", "widths", "group_by")]),
        )
        if signature == self._table_signature:
            return False
        self._table_signature = signature
        editors: dict[str, Any] = {OPEN: None, "id": None, "version": None}
        formatters: dict[str, Any] = {}
        filters: dict[str, Any] = {}
        aligns: dict[str, str] = {}
        for column in store.columns:
            editors[column.key] = column.kind.editor
            if column.kind.formatter is not None:
                formatters[column.key] = column.kind.formatter
            if column.kind.header_filter is not None and column.field_key:
                filters[column.key] = column.kind.header_filter
            if column.kind.align:
                aligns[column.key] = column.kind.align
        hidden = ["id", "version", *[k for k in view.get("hidden_fields", []) if k != "name"]]
        self.table.param.update(
            value=store.frame(),
            titles={OPEN: "", "id": "#", **column_titles({c.key: c.title for c in store.columns})},
            editors=editors,
            formatters=formatters,
            header_filters=filters,
            text_align=aligns,
            hidden_columns=hidden,
            frozen_columns=[OPEN, *[k for k in view.get("frozen_fields", []) if k not in hidden]],
            widths=column_widths(store.columns, view.get("widths", {})),
        )
        group = view.get("group_by") or ""
        self.table.groupby = [group] if group else []
        self.bridge.param.update(
            field_keys=[c.key for c in store.columns if c.field_key],
            frozen=[k for k in view.get("frozen_fields", []) if k not in hidden],
            groupable=[k for k, spec in store.fields.items() if groupable(spec)],
            group_by=group,
        )
        return True

    def _show_page(self, frame: pd.DataFrame | None = None) -> None:
        """Show the store's page: patch the cells that changed when the same rows are shown,
        else replace the rows (``frame``: already set by :meth:`_configure_table`)."""
        store = self.store
        current = self.table.value
        if frame is not None and frame is current:
            self.table.selection = []
            self._sent = current.copy()
            self._show_counts()
            return
        frame = store.frame()
        same_rows = (
            len(current) == len(frame)
            and "id" in current
            and list(current["id"]) == list(frame["id"])
            and list(current.columns) == list(frame.columns)
        )
        if same_rows:
            self._patch_differences(current, frame)
        else:
            self.table.value = frame
            self.table.selection = []
            self._redraws += 1
            self._sent = self.table.value.copy()
        self._show_counts()

    def _show_counts(self) -> None:
        store = self.store
        archived = store.list_key == "archived"
        self.rows_button.param.update(  # archiving is destructive (and asks first)
            label="Restore selected" if archived else "Archive selected",
            color="default" if archived else "danger",
        )
        self.prev_button.disabled = store.cursors.get("before") is None  # the first row shows
        self.next_button.disabled = store.cursors.get("after") is None  # the last row shows
        self._render_summary()
        self._show_active_filters()
        self._show_totals()
        self.list_tabs.options = {
            f"{label} ({store.counts.get(key, 0):,})": key for key, label in LISTS.items()
        }

    def _render_summary(self) -> None:
        store = self.store
        pages = max(1, -(-store.total // store.page_size))
        self.summary.object = (
            f"{self.save_text} <b>{plural(store.total, 'investor')}</b> ·"
            f" <b>{money(store.total_invested)}</b> committed · page {store.page:,} of {pages:,}"
        )

    def _show_active_filters(self) -> None:
        store = self.store
        self.active_note.object = active_html(store)
        self.clear_button.visible = (
            bool(store.header_conditions or store.search or store.header_sorts)
            or "only_ids" in store.view
        )

    def _show_totals(self) -> None:
        """The footer: the row count now, and the sums over the whole view once they are read
        (a scan of the view, remembered until the data changes). Served, the scan runs on a read
        thread (``apps.runtime.READ_WORK``): at a million investors it takes a second, and on the
        event loop it held up every other session's pages and edits."""
        self._show_count()
        self._totals_wanted += 1
        if self.document is None:
            self._show_computed_totals(self._totals_wanted, self._run(self._totals_action()))
        else:
            pn.state.execute(partial(self._compute_totals_off_loop, self._totals_wanted))

    def _show_count(self, _event: Any = None) -> None:
        """The footer's count: the investors in the view, and the rows ticked on this page."""
        ticked = len(self.table.selection)
        count = f"{plural(self.store.total, 'investor')} in this view"
        self.bridge.counts = f"{count} · {ticked:,} ticked" if ticked else count

    def _totals_action(self) -> Callable[[Context], Any]:
        store = self.store
        view = {**store.view}
        archived = store.list_key == "archived"
        if not archived:
            view["list_membership"] = store.list_key
        conditions, search = list(store.header_conditions), store.search or None
        return lambda ctx: services.view_totals(
            ctx, view, conditions=conditions, search=search, archived=archived
        )

    async def _compute_totals_off_loop(self, wanted: int) -> None:
        outcome = await run_read(self._run, self._totals_action())
        self.on_loop(partial(self._show_computed_totals, wanted, outcome))

    def _show_computed_totals(self, wanted: int, outcome: Outcome) -> None:
        """Show the totals read for request ``wanted``, unless a newer page asked for its own
        (a slow scan must not overwrite the footer of the page shown since)."""
        if wanted != self._totals_wanted or outcome.result is None:
            return
        store, totals = self.store, outcome.result
        self.bridge.param.update(
            totals=totals_text(store, totals), groups=group_headers(store, totals)
        )

    def set_save_state(self, text: str) -> None:
        """Show ``text`` (HTML: names in it must come through :func:`apps.markup.escape_text`)
        before the counts."""
        self.save_text = text
        self._render_summary()

    def _patch_differences(self, current: pd.DataFrame, frame: pd.DataFrame) -> None:
        """Show what changed on the page. Any patch makes Panel's Tabulator redraw every row,
        which closes an open editor, so a change only to bookkeeping (the version, modified
        at/by, as after one's own save) is written into the server's copy without a redraw:
        the next visible change shows it. That keeps Tab moving from cell to cell."""
        sent = self._sent_matching(current)
        patch: dict[str, list[tuple[int, Any]]] = {}
        # whole tables as object arrays: a cell at a time through pandas cost 40 ms a page
        # (measured at 100,000 investors), more than reading the page
        shown = current.to_numpy(dtype=object)
        last_sent = shown if sent is None else sent.to_numpy(dtype=object)
        fresh = frame.to_numpy(dtype=object)
        for index, column in enumerate(frame.columns):
            at = current.columns.get_loc(column)
            shown_cells, sent_cells = shown[:, at], last_sent[:, at]
            for position, new in enumerate(fresh[:, index]):
                self._add_to_patch(patch, column, position, new, shown_cells, sent_cells)
        self._apply_patch(patch)

    def _patch_rows(self, rows: list[dict[str, Any]]) -> None:
        """Show re-read rows where they are on the page, cell by cell as
        :meth:`_patch_differences` does (without building the page's frame again)."""
        current = self.table.value
        if current.empty or "id" not in current:
            return
        sent = self._sent_matching(current)
        positions = {int(i): p for p, i in enumerate(current["id"])}
        patch: dict[str, list[tuple[int, Any]]] = {}
        for row in rows:
            position = positions.get(row["id"])
            if position is None:
                continue
            for column, new in self.store.cells(row).items():
                if column in current.columns:
                    shown = {position: current[column].iloc[position]}
                    last_sent = shown if sent is None else {position: sent[column].iloc[position]}
                    self._add_to_patch(patch, column, position, new, shown, last_sent)
        self._apply_patch(patch)

    def _sent_matching(self, current: pd.DataFrame) -> pd.DataFrame | None:
        """The table as last sent to the browser, if it still has the shown table's shape."""
        sent = self._sent
        if sent is not None and (
            sent.shape != current.shape or list(sent.columns) != list(current.columns)
        ):
            return None
        return sent

    @staticmethod
    def _add_to_patch(
        patch: dict[str, list[tuple[int, Any]]],
        column: str,
        position: int,
        new: Any,
        shown: Sequence[Any] | Mapping[int, Any],
        sent: Sequence[Any] | Mapping[int, Any],
    ) -> None:
        """Add a cell to ``patch`` if it changed (``shown``: the column's cells as the table
        holds them), unless the browser changed it since it was ``sent`` (typed there, its edit
        on its way: its save redraws it)."""
        old = shown[position]
        if same_cell(old, new):
            return
        if not same_cell(old, sent[position]):
            return
        patch.setdefault(column, []).append((position, new))

    def _apply_patch(self, patch: dict[str, list[tuple[int, Any]]]) -> None:
        """Send changed cells to the browser, unless only bookkeeping changed (see above)."""
        if not patch:
            return
        if set(patch) <= SILENT_COLUMNS:
            shown = self.table.value
            for column, cells in patch.items():
                for position, value in cells:
                    shown.iat[position, shown.columns.get_loc(column)] = value
        else:
            self.table.patch(patch, as_index=False)
            self._redraws += 1
        self._sent = self.table.value.copy()

    # -- navigation --------------------------------------------------------------------------
    def show_list(self, key: str) -> None:
        if key == self.store.list_key:
            return
        self.store.param.update(list_key=key, page=1)
        self.reload()

    def set_search(self, text: str) -> None:
        self.store.param.update(search=text.strip(), page=1)
        self.reload()

    def set_page_size(self, size: int) -> None:
        self.store.param.update(page_size=int(size), page=1)
        self.reload()

    def turn(self, step: int) -> None:
        """◀ / ▶: the page before the first row on screen, or after the last one, wherever
        those rows now stand (keyset: rows others add or archive meanwhile shift nothing)."""
        direction = "after" if step > 0 else "before"
        cursor = self.store.cursors.get(direction)
        if cursor is not None and abs(step) == 1:
            self.store.seek = (direction, cursor)
        else:
            self.store.page = max(1, self.store.page + step)
        self.reload()

    def go_to_page(self, page: int) -> None:
        self.store.page = max(1, page)
        self.reload()

    def _on_header(self, _event: Any) -> None:
        self.store.param.update(
            header_conditions=self.store.conditions_from_header(self.table.filters),
            header_sorts=self.store.sorts_from_header(self.table.sorters),
            page=1,
        )
        self.reload()

    def _set_view_choices(self) -> None:
        options = {"All investors": 0}
        for view in self.views:
            owner = "shared" if view["shared"] else "mine"
            options[f"{view['name']} ({owner})"] = view["id"]
        set_choices(self.view_choice, options)
        self.view_choice.value = self.store.view.get("id") or 0

    def open_view(self, view_id: int | None) -> None:
        """Show a saved view (its list, filters, sorts and columns), or all investors."""
        view_id = view_id or None  # 0: "All investors"
        if view_id == self.store.view.get("id"):
            return
        view = next((v for v in self.views if v["id"] == view_id), None)
        self.apply_view({**EMPTY_VIEW, **(view or {})})
        if self._view_builder is not None:
            self._view_builder.load(self.store.view)

    def apply_view(self, view: dict[str, Any]) -> None:
        """Show a view (saved, or edited in the view builder and not saved yet)."""
        membership = view["list_membership"] if view["list_membership"] in LISTS else "all"
        self.store.param.update(view=view, page=1, header_sorts=None, list_key=membership)
        self.list_tabs.value = membership  # already the store's list: no second reload
        self.reload(columns=True)

    def refresh_views(self, select: int | None = None) -> None:
        views = self.act(services.list_views)
        if views is None:
            return
        self.views = views
        if select is not None:
            saved = next((v for v in views if v["id"] == select), None)
            if saved is not None:
                self.store.view = {**EMPTY_VIEW, **saved}
        elif self.store.view.get("id") not in {v["id"] for v in views}:
            self.store.view = {**self.store.view, "id": None, "version": None}
        self._set_view_choices()

    def show_side(self, panel: Any, *, keep_open: bool = False) -> None:
        """Open a side panel (its toolbar button closes it again, unless ``keep_open``)."""
        if self.side.visible and self.side.objects and self.side.objects[0] is panel.layout:
            if not keep_open:
                self.side.visible = False
            return
        panel.refresh()
        self.side.objects = [panel.layout]
        self.side.visible = True

    def open_record(self, investor_id: int) -> None:
        self.record.show(investor_id)
        self.side.objects = [self.record.layout]
        self.side.visible = True

    # -- editing -----------------------------------------------------------------------------
    def _on_cell_click(self, event: Any) -> None:
        """A click selects a cell (or, on the first column and on people, opens the record); two
        on one cell make a double click, which opens its editor: remember the version the row
        had then, so an edit committed after someone else's change is a conflict."""
        position = int(event.row)
        investor_id = int(self.table.value["id"].iloc[position])
        if event.column in (OPEN, PEOPLE):
            self.open_record(investor_id)
            return
        column = next((c for c in self.store.columns if c.key == event.column), None)
        if column is None or column.kind.editor is None:
            return
        now = time.monotonic()
        version = int(self.table.value["version"].iloc[position])
        previous = self._clicked
        double = previous is not None and previous[:2] == (investor_id, event.column)
        if double and now - previous[3] < DOUBLE_CLICK_S:  # an editor is open: no redraws
            self._editing = (investor_id, previous[2], now)
        self._clicked = (investor_id, event.column, version, now)
        self._redraws_at_click = self._redraws

    def _version_for_edit(self, investor_id: int, position: int) -> int:
        """The version the row had when a double click opened its editor (others' changes were
        held back from that editor); else the version on screen, which live updates keep
        current (an editor opened with Enter is redrawn by them, so it was seen)."""
        started = self._editing
        self._editing = self._clicked = None
        if started is not None and started[0] == investor_id:
            return started[1]
        return int(self.table.value["version"].iloc[position])

    def _editor_open(self) -> bool:
        return self._editing is not None and time.monotonic() - self._editing[2] < EDIT_GRACE_S

    def _save_action(
        self, key: str, investor_id: int, version: int, value: Any
    ) -> Callable[[Context], Any]:
        column = self.store.column(key)
        if column.pipeline_fund_id is not None:
            row = self.store.row(investor_id) or {}
            shown = row.get("opportunities", {}).get(column.pipeline_fund_id)
            cell = column.kind.from_cell(value)
            return lambda ctx: services.set_pipeline_cell(
                ctx, investor_id, key, cell, opportunity=shown
            )
        if column.fund_id is not None:
            row = self.store.row(investor_id) or {}
            commitment = row.get("commitments", {}).get(key)
            amount = column.kind.from_cell(value)
            return lambda ctx: services.set_fund_cell(
                ctx, investor_id, column.fund_id, amount, commitment=commitment
            )
        stored = column.kind.from_cell(value)
        return lambda ctx: services.update_field(
            ctx, investor_id, key, stored, expected_version=version
        )

    def _run(self, action: Callable[[Context], Any]) -> Outcome:
        """Run a service call as the user without touching widgets (safe off the event loop)."""
        token = self.session.token if self.session else None
        try:
            with self.runtime.user_context(token) as ctx:
                return Outcome(result=action(ctx))
        except NotAuthenticated as exc:
            return Outcome(error=exc, ended=True)
        except CRMError as exc:
            return Outcome(error=exc)
        except Exception as exc:  # a driver error or a bug: the save must still end visibly
            failure = database_failure(exc)
            if failure is None:
                log.exception("A grid save failed")
                failure = CRMError(
                    "Something went wrong on the server (it is in the log); nothing was saved."
                    " Try again."
                )
            return Outcome(error=failure)

    def _on_edit(self, event: Any) -> None:
        """A cell was edited in the browser: show at once that it is saving (this handler's
        changes are sent when it returns), then save off the event loop (:meth:`_save_edit`)."""
        key, position = event.column, int(event.row)
        self._edit_arrived(position, key)
        investor_id = int(self.table.value["id"].iloc[position])
        clicked = self._clicked
        version = self._version_for_edit(investor_id, position)
        title = self.store.column(key).title if key in {c.key for c in self.store.columns} else key
        if self._typed_value_lost(clicked, investor_id, key, event):
            self.set_save_state(state_html("failed", title, "Type it again."))
            self._report(
                f"Not saved: the grid was refreshed with others' changes while you typed"
                f" {title}, and your value did not reach the server. Type it again.",
                failed=True,
            )
            self.reload()
            return
        self.set_save_state(state_html("saving", title))
        action = self._save_action(key, investor_id, version, event.value)
        edit = (key, position, investor_id, event.old, title, event.value)
        pn.state.execute(partial(self._save_edit, action, edit))

    def _edit_arrived(self, position: int, key: str) -> None:
        """The browser's edit of a cell has reached us: from now on its value is ours to
        redraw (a conflict or a failure puts the stored value back)."""
        sent = self._sent
        if sent is not None and key in sent.columns and position < len(sent):
            current = self.table.value
            if key in current.columns and position < len(current):
                sent.iat[position, sent.columns.get_loc(key)] = current[key].iloc[position]

    def _typed_value_lost(
        self, clicked: tuple[int, str, int, float] | None, investor_id: int, key: str, event: Any
    ) -> bool:
        """Panel reads an edit's value from the server's copy of the table when the edit's
        event arrives; a redraw between the browser's new cell and that event (others' changes,
        under load) puts the stored value back there, and saving it would show "Saved" for an
        edit that was never written. Seen by bench/bench_load.py: 19 of 176 edits under 20
        sessions and 5 API writes/s. So an edit whose value equals the old one, after the
        server redrew the table since the cell was clicked, is refused visibly instead."""
        clicked_here = clicked is not None and clicked[:2] == (investor_id, key)
        return (
            clicked_here
            and self._redraws != self._redraws_at_click
            and same_cell(event.value, event.old)
        )

    async def _save_edit(self, action: Callable[[Context], Any], edit: tuple) -> None:
        """Save on an edit thread. Never "Saving…" for long: a slow save says so, a busy
        database is retried once, then the outcome (saved, conflict, not saved) is shown. The
        widgets change through :meth:`on_loop`: changed here, after the ``await``, they could
        stay unsent until the browser's next event (the save state that stuck)."""
        outcome = await save_patiently(
            lambda: run_edit(self._run, action),
            lambda text: self.on_loop(partial(self.set_save_state, text)),
            edit[4],
        )
        self.on_loop(partial(self._apply_edit, outcome, *edit))

    def edit_cell(self, position: int, key: str, value: Any) -> None:
        """Edit a cell from Python, as the browser would (tests, benchmarks)."""
        old = self.table.value[key].iloc[position]
        self.table.patch({key: [(position, value)]}, as_index=False)
        self._edit_arrived(position, key)
        investor_id = int(self.table.value["id"].iloc[position])
        version = self._version_for_edit(investor_id, position)
        outcome = self._run(self._save_action(key, investor_id, version, value))
        title = self.store.column(key).title
        self._apply_edit(outcome, key, position, investor_id, old, title, value)

    def _apply_edit(
        self,
        outcome: Outcome,
        key: str,
        position: int,
        investor_id: int,
        old: Any,
        title: str,
        value: Any = None,
    ) -> None:
        if not outcome.ended:  # saved, refused or a conflict: the browser need not keep it
            shown = value if isinstance(value, str | int | float | bool) else None
            self.bridge.settle([{"id": investor_id, "field": key, "value": shown}])
        if outcome.ended:
            self._report(outcome.error.message if outcome.error else "", failed=True)
            if pn.state.location is not None:
                pn.state.location.reload = True
            return
        error = outcome.error
        if isinstance(error, ConflictError):
            who = error.updated_by_name or "someone else"
            when = (error.updated_at or "")[:19].replace("T", " ")
            self.set_save_state(state_html("conflict", title, who))
            mine = text(value) if value is not None else ""
            kept = (
                f" Your {title} “{mine}” is kept: “Apply my edit” saves it over theirs."
                if mine
                else ""
            )
            self._report(
                f"Not saved: {who} changed this record at {when} UTC. The grid shows the current"
                f" value.{kept}",
                failed=True,
            )
            if mine:
                self._retry = (key, investor_id, value)
                self.retry_button.param.update(visible=True, label=f"Apply my edit ({title})"[:60])
            self.reload()
            return
        if error is not None:
            self.table.patch({key: [(position, old)]}, as_index=False)
            self.set_save_state(state_html("failed", title, "The value was put back; try again."))
            self._report(error.message, failed=True)
            return
        self.set_save_state(state_html("saved", title))
        saved = outcome.result
        if key.startswith(PIPELINE_PREFIXES):  # an opportunity, not the row: re-read the page
            self.reload()
            if isinstance(saved, dict):
                propose_commitment(self, saved, self.reload)
            return
        if isinstance(saved, dict) and key != "list_membership" and self._pending_remote is None:
            self._show_saved_row(saved)  # recomputed formulas and the new version; no query
        else:
            self.reload()  # commitments (rollups), list moves, or others' changes waiting

    def _show_saved_row(self, saved: dict[str, Any]) -> None:
        """Put a saved investor row (as the service returned it) on the page where it is: an
        edited row stays in place, as in a spreadsheet, even if the sort would move it."""
        rows = list(self.store.rows)
        positions = [i for i, row in enumerate(rows) if row["id"] == saved["id"]]
        for position in positions:
            rows[position] = {**rows[position], **saved}
        self.store.rows = rows
        current = self.table.value
        if not positions or len(current) != len(rows):
            self._show_page()
            return
        position = positions[0]
        changed = {
            key: [(position, new)]
            for key, new in self.store.cells(rows[position]).items()
            if key in current and not same_cell(current[key].iloc[position], new)
        }
        self._apply_patch(changed)
        self._render_summary()

    def on_remote_changes(self, changes: list[Change]) -> None:
        """Changes committed elsewhere (another session, a job, the API): show them on this
        page. A change that cannot alter the page's rows, order, count or totals
        (:mod:`crm_lib.grid.change_scope`) costs nothing unless its row is shown, and then only
        that row is read again. While an editor is open here nothing is redrawn (it would throw
        away what is being typed): the changes wait until that edit is saved (which reloads)
        or EDIT_GRACE_S has passed."""
        structural = any(c.entity in STRUCTURAL for c in changes)
        if not structural and self._already_shown(changes):
            return  # this page's own save, already on screen
        refresh = PageRefresh(reload=True)
        if not structural:
            shown = self.table.value["id"].tolist() if "id" in self.table.value else []
            refresh = page_refresh(changes, shown, self.store.depends_on())
            if refresh.nothing:
                return
        if self._editor_open():
            first = self._pending_remote is None
            self._pending_remote = bool(self._pending_remote) or structural
            if first and self.document is not None:
                self.document.add_timeout_callback(self._flush_remote, int(EDIT_GRACE_S * 1000))
            return
        if refresh.reload or self._pending_remote is not None:
            self.reload(columns=structural)
            return
        ids = sorted(refresh.rows)
        rows = self.act(lambda ctx: self.store.refresh_rows(ctx, ids))
        if rows:
            self._patch_rows(rows)

    def _already_shown(self, changes: list[Change]) -> bool:
        frame = self.table.value
        if frame.empty or "id" not in frame:
            return False
        shown = dict(zip(frame["id"].tolist(), frame["version"].tolist(), strict=True))
        return all(
            c.entity == "fundraising_investors"
            and c.action == "update"
            and shown.get(c.entity_id) == c.version
            for c in changes
        )

    def _flush_remote(self) -> None:
        """The wait for an open editor is over: show the changes held back, unless another
        editor opened since this wait began (its own wait, or its save, shows them)."""
        if self._pending_remote is None:
            return
        if self._editor_open() and self.document is not None:
            self.document.add_timeout_callback(self._flush_remote, int(EDIT_GRACE_S * 1000))
            return
        self.reload(columns=self._pending_remote)

    # -- rows --------------------------------------------------------------------------------
    def add_investor(self, name: str) -> None:
        name = (name or "").strip()
        if not name:
            self._report("Type the new investor's name first.", failed=True)
            return
        membership = (
            self.store.list_key
            if self.store.list_key in LISTS and self.store.list_key not in ("all", "archived")
            else "main"
        )
        created = self.act(
            lambda ctx: services.create_investor(
                ctx, {"name": name, "list_membership": membership}
            ),
            success=f"Added {name}.",
        )
        if created is None:
            return
        self.new_name.value = ""
        self.reload()
        self.open_record(created["id"])

    def _selected(self) -> list[tuple[int, int]]:
        frame = self.table.value
        return [
            (int(frame["id"].iloc[i]), int(frame["version"].iloc[i])) for i in self.table.selection
        ]

    def archive_selected(self) -> None:
        self._set_selected_archived(True)

    def restore_selected(self) -> None:
        self._set_selected_archived(False)

    def ask_rows_action(self) -> None:
        """The rows button: restore the ticked rows on the Archived list; elsewhere archive
        them, after the confirm step (archiving hides them from every list and view)."""
        if self.store.list_key == "archived":
            self.restore_selected()
            return
        chosen = self._selected()
        if not chosen:
            self._report("Tick the rows to archive first.", failed=True)
            return
        frame = self.table.value
        names = (
            [str(frame["name"].iloc[i]) for i in self.table.selection] if "name" in frame else []
        )
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        count = plural(len(chosen), "investor")
        self.confirm(
            f"Archive {count}?",
            "Archive",
            lambda: self._set_selected_archived(True, chosen),
            f"{shown} will leave every list and view; restore them from the Archived list.",
        )

    def _set_selected_archived(
        self, archived: bool, chosen: list[tuple[int, int]] | None = None
    ) -> None:
        """Archive or restore the ticked rows (or ``chosen``: (id, version) pairs), all in one
        transaction (all or none)."""
        chosen = self._selected() if chosen is None else chosen
        verb = "archive" if archived else "restore"
        if not chosen:
            self._report(f"Tick the rows to {verb} first.", failed=True)
            return
        where = "; restore them from the Archived list" if archived else ""
        self.act(
            lambda ctx: services.set_investors_archived(ctx, chosen, archived=archived),
            success=f"{verb.title()}d {plural(len(chosen), 'investor')}{where}.",
        )
        self.reload()

    # -- exports -----------------------------------------------------------------------------
    def _export_query(self) -> dict[str, Any]:
        """What the grid shows now (list tab, view, header filters and sorts, search, hidden
        columns and column order), as the export services' arguments."""
        view = self.store.view
        sorts = self.store.header_sorts or view.get("sorts") or [{"field": "name"}]
        return {
            "list_membership": view["list_membership"]
            if self.store.list_key == "archived"
            else self.store.list_key,
            "sort": [(s["field"], s.get("direction", "asc")) for s in sorts],
            "conditions": self.store.header_conditions,
            "search": self.store.search or None,
            "filter_tree": view.get("filters"),
            "hidden_fields": view.get("hidden_fields", []),
            "field_order": view.get("field_order", []),
        }

    def export_file(self, fmt: str) -> io.BytesIO:
        """The grid as a CSV (with a byte-order mark, for Excel), JSON or XLSX download."""
        out = io.BytesIO()
        query = self._export_query()
        if self.act(lambda ctx: services.write_export(ctx, fmt, out, bom=True, **query)) is None:
            return io.BytesIO()  # failed, and said why: no half-written file
        out.seek(0)
        return out

    def csv_file(self) -> io.BytesIO:
        return self.export_file("csv")

    def json_file(self) -> io.BytesIO:
        return self.export_file("json")

    def xlsx_file(self) -> io.BytesIO:
        return self.export_file("xlsx")

    # -- layout ------------------------------------------------------------------------------
    def __panel__(self) -> pn.viewable.Viewable:
        toolbar = pn.Row(
            self.view_choice,
            self.search_box,
            self.view_button,
            self.fields_button,
            self.import_button,
            sizing_mode="stretch_width",
        )
        rows_bar = pn.Row(
            self.new_name,
            self.add_button,
            self.rows_button,
            self.undo_button,
            self.retry_button,
            self.summary,
            self.prev_button,
            self.next_button,
            self.page_size_choice,
            sizing_mode="stretch_width",
        )
        return shell(
            self.session,
            "/grid",
            self.list_tabs,
            toolbar,
            rows_bar,
            pn.Row(self.active_note, self.clear_button, sizing_mode="stretch_width"),
            pn.Row(
                pn.Column(self.table, self.bridge, sizing_mode="stretch_width"),
                self.side,
                sizing_mode="stretch_width",
            ),
            wide=True,
            dialog=self.confirmation,
            counts=self.nav_counts(),
        )


def _query_int(name: str) -> int | None:
    """An integer from the page's URL (``/grid?investor=12`` opens that record)."""
    args = pn.state.session_args if pn.state.curdoc is not None else {}
    raw = (args or {}).get(name, [b""])[0]
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None
