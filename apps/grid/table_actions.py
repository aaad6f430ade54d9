"""What the grid does for the table's browser side (apps/grid/bridge.py): the column header
menu, columns dragged to a new width or place, a pasted range and its undo, edits kept in the
browser while offline, a conflicted edit applied again, and clearing the header's filters.

A mixin of :class:`apps.grid.page.GridPage`, kept apart so the page module stays about loading
and showing the grid. It uses the page's store, widgets and its ``act``/``_run``/``_report``
helpers, and changes the view only through the pure functions of
:mod:`apps.grid.layout_changes`.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.formatting import plural
from apps.grid import layout_changes
from apps.grid.bridge import GridBridge
from apps.grid.paste import kept_edits, paste_plan
from apps.grid.store import GridStore, same_cell
from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError


class TableActions:
    """The grid page's handlers of what the browser side of its table sends (the page's
    attributes it uses are declared here, for readers and type checkers)."""

    store: GridStore
    table: pn.widgets.Tabulator
    bridge: GridBridge
    search_box: pn.widgets.TextInput
    undo_button: pn.widgets.Button
    retry_button: pn.widgets.Button
    views: list[dict[str, Any]]
    _undo: tuple[list[services.CellEdit], str] | None
    _retry: tuple[str, int, Any] | None

    def _on_bridge(self, message: dict[str, Any]) -> None:
        """One user action in the table that Panel does not sync (see apps/grid/bridge.py)."""
        kind = message.get("kind")
        if kind == "resize":
            self.change_layout(
                layout_changes.resized(self.store.view, str(message["field"]), message["width"]),
                redraw=False,
            )
        elif kind == "order":
            known = [c.key for c in self.store.columns]
            shown = [str(f) for f in message.get("fields") or []]
            self.change_layout(layout_changes.reordered(self.store.view, shown, known))
        elif kind == "command":
            self.header_command(str(message.get("action")), str(message.get("field")))
        elif kind == "paste":
            self.paste(message.get("cells") or [], int(message.get("outside") or 0))
        elif kind == "undo":
            self.undo_paste()
        elif kind == "replay":
            self.replay_kept_edits(message.get("edits") or [])

    def header_command(self, action: str, key: str) -> None:
        """A column header menu entry (sorting is done in the browser)."""
        view = self.store.view
        if key not in {c.key for c in self.store.columns}:
            return
        if action == "hide":
            self.change_layout(layout_changes.hidden(view, key))
        elif action == "freeze":
            shown = [c.key for c in self.store.columns]
            self.change_layout(layout_changes.frozen_to(view, key, shown))
        elif action == "unfreeze":
            self.change_layout(layout_changes.unfrozen(view, key))
        elif action == "group" and key in self.store.fields:
            self.change_layout({**view, "group_by": key})
        elif action == "ungroup":
            self.change_layout({**view, "group_by": None})
        elif action == "filter" and key in self.store.fields:
            self.show_side(self.view_builder, keep_open=True)
            self.view_builder.add_filter_for(key)
        elif action == "edit" and key in self.store.fields:
            self.show_side(self.fields_panel, keep_open=True)
            self.fields_panel.edit_field(key)
        elif action in ("insert_left", "insert_right") and key in self.store.fields:
            self.show_side(self.fields_panel, keep_open=True)
            self.fields_panel.new_field_beside(key, "left" if action == "insert_left" else "right")

    def change_layout(self, view: dict[str, Any], *, redraw: bool = True) -> None:
        """Show a view whose columns changed (hidden, frozen, width, order) and save that to
        the view when it is a saved one; "All investors", or a view this user may not change,
        keeps it for this session (the view builder can save it as a view)."""
        previous = self.store.view
        self.store.view = view
        if view.get("id") is not None:
            changes = {
                key: view.get(key)
                for key in ("hidden_fields", "frozen_fields", "widths", "field_order", "group_by")
                if view.get(key) != previous.get(key)
            }
            saved = self.act(
                lambda ctx: services.update_view(
                    ctx, view["id"], changes, expected_version=view["version"]
                )
            )
            if saved is not None:
                self.store.view = {**view, "version": saved["version"]}
                self.views = [saved if v["id"] == saved["id"] else v for v in self.views]
        if redraw:
            self.reload(columns=True)
        if self._view_builder is not None:
            self._view_builder.load(self.store.view)

    def paste(self, cells: list[dict[str, Any]], outside: int = 0) -> None:
        """A range pasted into the grid: every cell validated, written as one transaction (or
        nothing, with each bad cell named), and undoable with "Undo paste" or Ctrl+Z."""
        plan = paste_plan(self.store, cells, outside)
        skipped = plan.skipped_text()
        if not plan.edits:
            self._report(f"Nothing was pasted: {skipped or 'no cells to paste into'}.", failed=True)
            return
        written = self.act(lambda ctx: services.update_cells(ctx, plan.edits))
        if written is None:  # refused, and said why (each bad cell by row and column)
            self.reload()
            return
        count = plural(written.changed, "cell")
        self._undo = (written.undo, count)
        self.undo_button.visible = True
        note = f" Skipped {skipped}." if skipped else ""
        self._report(f"Pasted {count}.{note} Undo with Ctrl+Z or “Undo paste”.", failed=False)
        self.reload()

    def undo_paste(self) -> None:
        """Put back what the last paste replaced, unless someone changed those records since
        (then nothing is undone, and the message says who)."""
        if self._undo is None:
            return
        edits, count = self._undo
        if self.act(lambda ctx: services.update_cells(ctx, edits)) is not None:
            self._undo = None
            self.undo_button.visible = False
            self._report(f"Undid the paste of {count}.", failed=False)
        self.reload()

    def replay_kept_edits(self, kept: list[dict[str, Any]]) -> None:
        """Edits the browser kept while the server could not be reached: each is saved at the
        version it was made on. One that did reach the server before the connection dropped
        is recognised (the record already holds that value) and not applied twice; one that
        someone else's change overtook is a conflict, reported and not applied."""
        saved, conflicts, failed = 0, [], []
        for edit in kept_edits(self.store, kept):
            outcome = self._run(lambda ctx, e=edit: services.update_cells(ctx, [e]))
            if isinstance(outcome.error, ConflictError):
                if not self._already_holds(edit):
                    who = outcome.error.updated_by_name or "someone else"
                    conflicts.append(f"{edit.row_label} (changed by {who})")
            elif outcome.error is not None:
                failed.append(f"{edit.row_label}: {outcome.error.message}")
            else:
                saved += 1
        self.bridge.settle(kept, replayed=True)
        if saved or conflicts or failed:
            parts = [f"Saved {plural(saved, 'edit')} made while offline."] if saved else []
            if conflicts:
                parts.append("Not saved, changed meanwhile: " + "; ".join(conflicts[:5]) + ".")
            if failed:
                parts.append("Not saved: " + "; ".join(failed[:5]) + ".")
            self._report(" ".join(parts), failed=bool(conflicts or failed))
        self.reload()

    def _already_holds(self, edit: services.CellEdit) -> bool:
        """Does the record already hold the value this kept edit sets (it was saved before the
        connection dropped, and only the browser did not hear so)?"""

        def read(ctx: Context) -> Any:
            record = services.get_investor(ctx, edit.investor_id)
            if edit.column.startswith("fund:"):
                fund_id = int(edit.column.split(":", 1)[1])
                found = [c for c in record["commitments"] if c["fund_id"] == fund_id]
                return found[0]["amount"] if found else None
            return record["investor"].get(edit.column)

        current = self._run(read)
        if current.error is not None:
            return False
        if edit.column.startswith("fund:"):
            wanted: Any = edit.value
        else:
            spec = self.store.fields.get(edit.column)
            try:
                wanted = spec.decode(spec.parse(edit.value)) if spec is not None else None
            except ValueError:
                return False
        return same_cell(current.result, wanted)

    def retry_edit(self) -> None:
        """Save the value a conflict refused, over the other person's change (now seen)."""
        if self._retry is None:
            return
        key, investor_id, value = self._retry
        self._retry = None
        self.retry_button.visible = False
        row = self.store.row(investor_id)
        if row is None or key not in {c.key for c in self.store.columns}:
            self._report("That record is no longer on this page; edit it again.", failed=True)
            return
        title = self.store.column(key).title
        action = self._save_action(key, investor_id, int(row["version"]), value)
        position = next(i for i, r in enumerate(self.store.rows) if r["id"] == investor_id)
        old = self.table.value[key].iloc[position]
        self._apply_edit(self._run(action), key, position, investor_id, old, title, value)

    def clear_filters(self) -> None:
        """Clear the search, header filters and clicked sorts, and an answer's temporary view
        (the view's own filters and sorts stay: they are changed in the view builder)."""
        self.search_box.value = ""
        self.bridge.clear_header()
        view = {k: v for k, v in self.store.view.items() if k not in ("only_ids", "answer")}
        self.store.param.update(
            view=view, header_conditions=[], header_sorts=None, search="", page=1
        )
        self.reload()
