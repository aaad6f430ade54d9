"""The fields panel of the grid: add a field or a formula field (validated as you type), and for
the chosen column rename it, move it, hide it in this view, change its type (after a preview of
the values that would not convert), edit its options or formula, archive or restore it.

Adding a formula field, changing a formula or a type, renaming an option and restoring a field
compute or convert a value for every investor: seconds at 100,000 rows, and up to the formula
budget (``CRM_FORMULA_BUDGET_S``) for a costly formula. Those run off the event loop
(:meth:`apps.chrome.UserPage.launch`) with the panel's buttons disabled and "Working…" shown, so
every other session of the server is served meanwhile; so does the check as you type, whose
sample values may each take up to the per-record cap."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import panel as pn

from apps.chrome import Working, set_choices
from apps.markup import escape_text
from crm_lib import limits, services
from crm_lib.services.fields import COLORS, EDITABLE_TYPES, TYPE_LABELS

if TYPE_CHECKING:
    from apps.grid.host import GridHost


def formula_feedback(check: Any, text: str) -> str:
    """The editor's verdict as HTML: result type and sample values, or the message with a caret
    under the position the engine names."""
    if check.ok:
        samples = "".join(
            f"<li>{escape_text(s['name'])}: <code>{escape_text(str(s['value']))}</code></li>"
            for s in check.samples
        )
        return (
            f"<div class='crm-formula-ok'>✓ Valid — gives a {check.result_type}"
            f"{'; reads ' + escape_text(', '.join(check.dependencies)) if check.dependencies else ''}"
            f"<ul>{samples}</ul></div>"
        )
    caret = ""
    if check.position is not None and text:
        caret = f"<pre style='margin:0'>{escape_text(text)}\n{' ' * check.position}^</pre>"
    return f"<div class='crm-formula-error' style='color:var(--crm-color-danger-text)'>✗ {escape_text(check.message or '')}{caret}</div>"


def parse_choices(text: str) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """Options typed one per line as ``Name``, ``Name | colour`` or ``Old -> New | colour``:
    the choices, their colours, and renames."""
    choices, colors, renames = [], {}, {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, color = line.partition("|")
        old, arrow, new = name.partition("->")
        name = (new if arrow else old).strip()
        if arrow and old.strip():
            renames[old.strip()] = name
        choices.append(name)
        if color.strip():
            colors[name] = color.strip()
    return choices, colors, renames


class FieldsPanel:
    """Side panel of the grid page for its fields."""

    def __init__(self, page: GridHost) -> None:
        self.page = page
        self.new_label = pn.widgets.TextInput(
            label="New field name",
            css_classes=["crm-new-field"],
            max_length=limits.max_length("field_label"),
        )
        self.new_type = pn.widgets.Select(
            label="Type",
            options={TYPE_LABELS[t]: t for t in (*EDITABLE_TYPES, "formula")},
            css_classes=["crm-new-type"],
        )
        self.new_choices = pn.widgets.TextAreaInput(
            label="Options (one per line; 'Name | red' sets a colour)", height=80, visible=False
        )
        self.formula = pn.widgets.TextAreaInput(
            label="Formula",
            height=70,
            visible=False,
            placeholder="{Total invested} * 0.02",
            css_classes=["crm-new-formula"],
            max_length=limits.max_length("formula"),
        )
        self.formula_check = pn.pane.HTML("", visible=False, sizing_mode="stretch_width")
        self.add_button = pn.widgets.Button(label="Add field", color="primary")
        #: (column, "left"/"right") the next added field goes beside (the header menu)
        self._beside: tuple[str, str] | None = None
        self.choice = pn.widgets.Select(label="Field", options={})
        self.rename_box = pn.widgets.TextInput(
            label="Rename to", max_length=limits.max_length("field_label")
        )
        self.rename_button = pn.widgets.Button(label="Rename")
        self.left_button = pn.widgets.Button(label="◀ Move left", width=110)
        self.right_button = pn.widgets.Button(label="Move right ▶", width=110)
        self.hide_button = pn.widgets.Button(label="Hide in this view")
        self.width_box = pn.widgets.IntInput(
            label="Width in this view (px)", start=40, end=2000, value=None, width=150
        )
        self.width_button = pn.widgets.Button(label="Set width", align="end")
        self.retype = pn.widgets.Select(label="Change type to", options={})
        self.preview_button = pn.widgets.Button(label="Preview type change")
        self.apply_type_button = pn.widgets.Button(
            label="Change type", color="warning", visible=False
        )
        self.preview_out = pn.pane.HTML("", sizing_mode="stretch_width")
        self.options_box = pn.widgets.TextAreaInput(
            label="Options: one per line; 'Old -> New' renames; '| colour' ("
            + ", ".join(COLORS)
            + ")",
            height=100,
        )
        self.options_button = pn.widgets.Button(label="Save options")
        self.edit_formula = pn.widgets.TextAreaInput(
            label="Formula", height=70, max_length=limits.max_length("formula")
        )
        self.edit_formula_check = pn.pane.HTML("", sizing_mode="stretch_width")
        self.formula_button = pn.widgets.Button(label="Save formula")
        self.archive_button = pn.widgets.Button(label="Archive field", color="danger")
        self.archived_choice = pn.widgets.Select(label="Archived fields", options={})
        self.restore_button = pn.widgets.Button(label="Restore field")
        self.select_box = pn.Column(self.options_box, self.options_button)
        self.formula_box = pn.Column(
            self.edit_formula, self.edit_formula_check, self.formula_button
        )
        self.type_box = pn.Column(
            self.retype, pn.Row(self.preview_button, self.apply_type_button), self.preview_out
        )
        self.working = Working(self._buttons)
        self._checking: dict[int, str] = {}  # editor pane -> the text of its latest check
        self._wire()
        self.layout = pn.Column(
            pn.pane.Markdown("### Fields"),
            self.working.layout,
            self.new_label,
            self.new_type,
            self.new_choices,
            self.formula,
            self.formula_check,
            self.add_button,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"),
            self.choice,
            pn.Row(self.rename_box, self.rename_button),
            pn.Row(self.left_button, self.right_button),
            self.hide_button,
            pn.Row(self.width_box, self.width_button),
            self.type_box,
            self.select_box,
            self.formula_box,
            self.archive_button,
            pn.pane.HTML("<hr>", sizing_mode="stretch_width"),
            pn.Row(self.archived_choice, self.restore_button),
            sizing_mode="stretch_width",
            css_classes=["crm-fields"],
        )

    def _wire(self) -> None:
        self.new_type.param.watch(lambda _: self._new_type_changed(), "value")
        self.formula.param.watch(lambda e: self.check_new_formula(e.new), "value_input")
        self.edit_formula.param.watch(lambda e: self.check_edited_formula(e.new), "value_input")
        self.add_button.on_click(lambda _: self.add())
        self.choice.param.watch(lambda _: self._show_field(), "value")
        self.rename_button.on_click(lambda _: self.rename())
        self.left_button.on_click(lambda _: self.move(-1))
        self.right_button.on_click(lambda _: self.move(+1))
        self.hide_button.on_click(lambda _: self.hide())
        self.width_button.on_click(lambda _: self.set_width(self.width_box.value))
        self.preview_button.on_click(lambda _: self.preview())
        self.apply_type_button.on_click(lambda _: self.change_type())
        self.options_button.on_click(lambda _: self.save_options())
        self.formula_button.on_click(lambda _: self.save_formula())
        self.archive_button.on_click(lambda _: self.ask_archive())
        self.restore_button.on_click(lambda _: self.restore())

    def _buttons(self) -> list[pn.widgets.Button]:
        """What starts an action: disabled while a long one runs (see :class:`Working`)."""
        return [
            self.add_button,
            self.rename_button,
            self.left_button,
            self.right_button,
            self.hide_button,
            self.width_button,
            self.preview_button,
            self.apply_type_button,
            self.options_button,
            self.formula_button,
            self.archive_button,
            self.restore_button,
        ]

    # -- state -------------------------------------------------------------------------------
    def refresh(self) -> None:
        fields = self.page.store.fields
        set_choices(self.choice, {spec.label: key for key, spec in fields.items()})
        archived = self.page.act(services.list_archived_fields) or []
        set_choices(self.archived_choice, {f["label"]: f["key"] for f in archived})
        self.restore_button.disabled = not archived
        self._show_field()

    def spec(self) -> Any:
        return self.page.store.fields.get(self.choice.value)

    def _show_field(self) -> None:
        spec = self.spec()
        if spec is None:
            return
        self.rename_box.value = spec.label
        self.width_box.value = self.page.store.view.get("widths", {}).get(spec.key)
        builtin = spec.is_builtin
        self.rename_button.disabled = False
        self.archive_button.disabled = builtin
        self.type_box.visible = not builtin and spec.formula is None
        self.retype.options = {TYPE_LABELS[t]: t for t in EDITABLE_TYPES if t != spec.type}
        self.apply_type_button.visible = False
        self.preview_out.object = ""
        self.select_box.visible = spec.type in ("single_select", "multi_select")
        if self.select_box.visible:
            colors = spec.options.get("colors", {})
            self.options_box.value = "\n".join(
                f"{c} | {colors[c]}" if c in colors else c for c in spec.options.get("choices", [])
            )
        self.formula_box.visible = spec.formula is not None
        if spec.formula is not None:
            self.edit_formula.value = spec.formula
            self.edit_formula_check.object = ""

    def _new_type_changed(self) -> None:
        kind = self.new_type.value
        self.new_choices.visible = kind in ("single_select", "multi_select")
        self.formula.visible = self.formula_check.visible = kind == "formula"

    def _after_change(self, select: str | None = None) -> None:
        self.page.reload(columns=True)
        self.refresh()
        if select is not None and select in self.page.store.fields:
            self.choice.value = select

    # -- actions -----------------------------------------------------------------------------
    def check_new_formula(self, text: str) -> Any:
        return self._check_formula(text or "", None, self.formula_check)

    def check_edited_formula(self, text: str) -> Any:
        return self._check_formula(text or "", self.choice.value, self.edit_formula_check)

    def _check_formula(self, text: str, key: str | None, out: pn.pane.HTML) -> Any:
        """Check the formula as typed, off the event loop (its sample values may take up to the
        per-record cap each, on every keystroke); a check that returns after a newer one was asked
        for is dropped. Returns the check when it ran inline (no served document), else None."""
        self._checking[id(out)] = text
        shown: list[Any] = []

        def show(check: Any) -> None:
            if self._checking.get(id(out)) == text:
                out.object = formula_feedback(check, text)
                shown.append(check)

        self.page.launch(lambda ctx: services.check_formula(ctx, text, key=key), show)
        return shown[0] if shown else None

    def add(self) -> None:
        label, kind = self.new_label.value, self.new_type.value
        options: dict[str, Any] = {}
        if kind in ("single_select", "multi_select"):
            choices, colors, _ = parse_choices(self.new_choices.value)
            options = {"choices": choices, "colors": colors}
            if kind == "multi_select":
                options["allow_new"] = False
        formula = self.formula.value if kind == "formula" else None

        beside, self._beside = self._beside, None

        def added(spec: Any) -> None:
            self.new_label.value = ""
            self.formula.value = ""
            self.formula_check.object = ""
            self._after_change(spec.key)
            if beside is not None:
                self._place_beside(spec.key, *beside)

        self.page.launch(
            lambda ctx: services.add_field(ctx, label, kind, options, formula=formula),
            added,
            success=f"Added field {label}.",
            working=self.working,
            what=f"Adding {label}"
            + (": computing it for every investor" if kind == "formula" else ""),
        )

    # -- the grid's column header menu -------------------------------------------------------
    def edit_field(self, key: str) -> None:
        """Show ``key`` selected for editing (rename, type, options, formula, width)."""
        if key in self.page.store.fields:
            self.choice.value = key
            self._show_field()

    def new_field_beside(self, key: str, side: Literal["left", "right"]) -> None:
        """Start a new field that goes just left or right of ``key`` in this view's columns
        once the user names it and presses "Add field"."""
        spec = self.page.store.fields.get(key)
        if spec is None:
            return
        self._beside = (key, side)
        self.add_button.label = f"Add field {side} of {spec.label}"[:80]
        self.page._report(
            f"Name the new field and press “Add field”: it goes {side} of {spec.label}.",
            failed=False,
        )

    def _place_beside(self, new_key: str, anchor: str, side: str) -> None:
        self.add_button.label = "Add field"
        order = [c.key for c in self.page.store.columns if c.key != new_key]
        if anchor not in order:
            return
        order.insert(order.index(anchor) + (1 if side == "right" else 0), new_key)
        self.page.change_layout({**self.page.store.view, "field_order": order})

    def rename(self) -> None:
        spec = self.spec()
        label = self.rename_box.value
        done = self.page.act(
            lambda ctx: services.rename_field(ctx, spec.key, label, expected_version=spec.version),
            success=f"Renamed to {label}.",
        )
        if done is not None:
            self._after_change(spec.key)

    def move(self, step: int) -> None:
        """Move the column within the saved view on screen (as in Airtable, each view keeps its
        own column order; save the view to keep it), or, on "All investors", for everyone."""
        spec, view = self.spec(), self.page.store.view
        if view.get("field_order") or view.get("id") is not None:
            order = [c.key for c in self.page.store.columns if c.field_key]
            index = order.index(spec.key)
            order.insert(max(0, min(len(order) - 1, index + step)), order.pop(index))
            self.page.apply_view({**view, "field_order": order})
            return
        position = list(self.page.store.fields).index(spec.key) + step
        if self.page.act(lambda ctx: services.move_field(ctx, spec.key, position)) is not None:
            self._after_change(spec.key)

    def set_width(self, width: int | None) -> None:
        """Give the column a width in this view (cleared when empty); save the view to keep it."""
        spec, view = self.spec(), dict(self.page.store.view)
        widths = {k: v for k, v in view.get("widths", {}).items() if k != spec.key}
        if width:
            widths[spec.key] = max(40, min(2000, int(width)))
        self.page.apply_view({**view, "widths": widths})

    def hide(self) -> None:
        spec = self.spec()
        view = dict(self.page.store.view)
        hidden = [k for k in view.get("hidden_fields", []) if k != spec.key]
        if spec.key == "name":
            self.page._report("The name column is always shown.", failed=True)
            return
        view["hidden_fields"] = [*hidden, spec.key]
        self.page.apply_view(view)
        self.page._report(
            f"{spec.label} is hidden in this view; save the view to keep it that way.",
            failed=False,
        )

    def preview(self) -> None:
        spec, new_type = self.spec(), self.retype.value
        self.page.launch(
            lambda ctx: services.preview_type_change(ctx, spec.key, new_type),
            lambda result: self._show_preview(result, new_type),
            working=self.working,
            what=f"Checking every value of {spec.label} as {TYPE_LABELS[new_type]}",
        )

    def _show_preview(self, result: Any, new_type: str) -> None:
        lines = "".join(
            f"<li>{escape_text(f['name'])}: {escape_text(str(f['value']))} — {escape_text(f['error'])}</li>"
            for f in result.failures
        )
        more = (
            f"<p>…and {result.failure_count - len(result.failures)} more</p>"
            if result.failure_count > len(result.failures)
            else ""
        )
        self.preview_out.object = (
            f"<p>{result.convertible:,} of {result.total:,} values convert to"
            f" {TYPE_LABELS[new_type]}; <b>{result.failure_count:,} would become blank</b>"
            " (their old values stay in the history).</p>"
            f"<ul class='crm-type-preview'>{lines}</ul>{more}"
        )
        self.apply_type_button.visible = True

    def change_type(self) -> None:
        spec, new_type = self.spec(), self.retype.value
        self.page.launch(
            lambda ctx: services.change_field_type(
                ctx, spec.key, new_type, expected_version=spec.version
            ),
            lambda _changed: self._after_change(spec.key),
            success=f"{spec.label} is now {TYPE_LABELS[new_type]}.",
            working=self.working,
            what=f"Converting every value of {spec.label} to {TYPE_LABELS[new_type]}",
        )

    def save_options(self) -> None:
        spec = self.spec()
        choices, colors, renames = parse_choices(self.options_box.value)
        self.page.launch(  # a renamed option changes every record holding it
            lambda ctx: services.update_choices(
                ctx,
                spec.key,
                choices,
                colors=colors,
                renames=renames,
                expected_version=spec.version,
            ),
            lambda _saved: self._after_change(spec.key),
            success=f"Options of {spec.label} saved.",
            working=self.working,
            what=f"Saving the options of {spec.label}",
        )

    def save_formula(self) -> None:
        spec, text = self.spec(), self.edit_formula.value
        self.page.launch(
            lambda ctx: services.update_formula(ctx, spec.key, text, expected_version=spec.version),
            lambda _saved: self._after_change(spec.key),
            success=f"Formula of {spec.label} saved; its column is recomputed.",
            working=self.working,
            what=f"Recomputing {spec.label} for every investor",
        )

    def ask_archive(self) -> None:
        """The archive button: confirm first, naming the field."""
        spec = self.spec()
        self.page.confirm(
            f"Archive the field {spec.label}?",
            "Archive field",
            self.archive,
            "Its column leaves the grid, views and exports; its values are kept and come back"
            " if you restore it.",
        )

    def archive(self) -> None:
        spec = self.spec()
        done = self.page.act(
            lambda ctx: (
                services.archive_field(ctx, spec.key, expected_version=spec.version) or True
            ),
            success=f"Archived {spec.label}; restore it below.",
        )
        if not done:
            return
        self._after_change()

    def restore(self) -> None:
        key = self.archived_choice.value
        archived = self.page.act(services.list_archived_fields) or []
        row = next((f for f in archived if f["key"] == key), None)
        if row is None:
            return
        self.page.launch(  # a formula field is recomputed for every investor
            lambda ctx: services.restore_field(ctx, key, expected_version=row["version"]),
            lambda _restored: self._after_change(key),
            success=f"Restored {row['label']}.",
            working=self.working,
            what=f"Restoring {row['label']}",
        )
