"""One investor field on the record page: an input of the field's type, or its formatted value
when it does not edit (formulas, the rollup, timestamps, an archived record).

Which fields edit, and how a percent or an owner travels, is the grid's column kind
(:mod:`apps.grid.columns`): the same field edits the same way on both pages, and every value
goes to the same service call, ``services.update_field``, whose parsers validate it. The input
types follow the grid's editors: text, long text, number (currency, percent), date, checkbox,
single select, multiple select (with new tags where the field allows them) and team member.

An input never loses what was typed: when a save fails (a refused value, or someone else's
change), the editor keeps the typed value and shows why beside it; only a deliberate "use
theirs", or a successful save, replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import panel as pn

from apps.formatting import blank, choice_labels, field_html
from apps.grid.columns import choice_colors
from apps.grid.store import Column
from apps.markup import escape_text, html_labels
from crm_lib import limits
from crm_lib.grid.fields import FieldSpec

#: Field types typed as one line of text, and the text limit each has.
LINE_TYPES = {"text": "text", "url": "url", "email": "email", "phone": "phone"}
NUMBER_TYPES = ("number", "currency", "percent")
#: How a blank choice reads in a picker.
NO_CHOICE = "—"
FIELD_WIDTH = 300
#: How the list field names its keys (the grid's list tabs).
LIST_LABELS = choice_labels("list_membership")


def value_html(
    spec: FieldSpec, value: Any, users: Mapping[int, str], zone: str | None = None
) -> str:
    """A stored value as read-only HTML, exactly as the grid's record panel and exports preview
    show it (:func:`apps.formatting.field_html`), with the select's own colours."""
    return field_html(spec, value, users=users, zone=zone, colors=choice_colors(spec))


class FieldEditor:
    """The input (or the read-only value) of one investor field."""

    def __init__(
        self,
        column: Column,
        spec: FieldSpec,
        users: Mapping[int, str],
        save: Callable[[str, Any], None],
    ) -> None:
        """``save(key, value)`` is called with the typed value, as the services take it."""
        self.column, self.spec, self.users = column, spec, dict(users)
        self.key = spec.key
        self.editable = column.kind.editor is not None
        self._save = save
        self._showing = False
        #: the stored value last shown (what "use theirs" puts back)
        self.stored: Any = None
        self.new_tag: pn.widgets.TextInput | None = None
        self.widget = self._make_widget() if self.editable else None
        self.display = pn.pane.HTML(
            "",
            visible=not self.editable,
            css_classes=["crm-field-value"],
            styles={"white-space": "pre-wrap", "min-height": "1.5em"},
        )
        self.label = pn.pane.HTML(
            f"<span class='crm-field-label'>{escape_text(spec.label)}</span>",
            margin=(5, 10, 0, 10),
        )
        self.message = pn.pane.HTML("", visible=False, css_classes=["crm-field-message"])
        parts: list[Any] = [self.label, self.display]
        if self.widget is not None:
            parts.append(self.widget)
            self.widget.param.watch(lambda _: self._typed(), "value")
        if self.new_tag is not None:
            parts.append(self.new_tag)
            self.new_tag.param.watch(lambda e: self._add_tag(e.new), "value")
        parts.append(self.message)
        wide = spec.type == "long_text"
        self.layout = pn.Column(
            *parts,
            width=None if wide else FIELD_WIDTH,
            sizing_mode="stretch_width" if wide else "fixed",
            css_classes=["crm-record-field", f"crm-field-{spec.key}"],
        )

    # -- the input -------------------------------------------------------------------------------
    def _make_widget(self) -> Any:
        spec, kind = self.spec, self.spec.type
        common: dict[str, Any] = {"sizing_mode": "stretch_width", "margin": (0, 10, 5, 10)}
        if kind in LINE_TYPES:
            return pn.widgets.TextInput(
                max_length=limits.max_length(LINE_TYPES[kind]), placeholder="", **common
            )
        if kind == "long_text":
            return pn.widgets.TextAreaInput(
                max_length=limits.max_length("long_text"), auto_grow=True, rows=3, **common
            )
        if kind in NUMBER_TYPES:
            step = (self.column.kind.editor or {}).get("step") or 1
            return pn.widgets.FloatInput(value=None, step=step, **common)
        if kind == "date":
            return pn.widgets.DatePicker(value=None, **common)
        if kind == "checkbox":
            return pn.widgets.Checkbox(label=spec.label, **common)
        if kind == "multi_select":
            if spec.options.get("allow_new"):
                self.new_tag = pn.widgets.TextInput(
                    placeholder=f"Add to {spec.label} and press Enter",
                    max_length=limits.max_length("option_name"),
                    **common,
                )
            return pn.widgets.MultiChoice(options={}, value=[], **common)
        if kind in ("single_select", "user"):
            return pn.widgets.Select(options={NO_CHOICE: None}, value=None, **common)
        return pn.widgets.TextInput(max_length=limits.max_length("text"), **common)

    def _choices(self, value: Any) -> dict[str, Any]:
        """A picker's options (label -> value), holding ``value`` even if it is no longer one
        of the field's choices (it is shown as it is stored, never silently changed)."""
        kind = self.spec.type
        if kind == "user":
            options = {NO_CHOICE: None, **{name: uid for uid, name in self.users.items()}}
            if value is not None and value not in options.values():
                options[f"#{value} (no longer on the team)"] = value
            return options
        choices = list(self.spec.options.get("choices") or [])
        values = value if isinstance(value, list) else ([] if value is None else [value])
        choices += [v for v in values if v not in choices]
        if self.key == "list_membership":
            return {LIST_LABELS.get(c, c): c for c in choices}
        if kind == "multi_select":
            return html_labels({c: c for c in choices})  # Choices.js renders labels as HTML
        required = bool(self.spec.options.get("required"))
        return {**({} if required else {NO_CHOICE: None}), **{c: c for c in choices}}

    def widget_value(self, value: Any) -> Any:
        """A stored value as the input holds it."""
        kind = self.spec.type
        if kind == "percent":
            return self.column.kind.to_cell(value)
        if kind in NUMBER_TYPES:
            return None if blank(value) else float(value)
        if kind == "date":
            return None if blank(value) else date.fromisoformat(str(value)[:10])
        if kind == "checkbox":
            return bool(value)
        if kind == "multi_select":
            return list(value or [])
        if kind in ("single_select", "user"):
            return value
        return "" if blank(value) else str(value)

    def typed(self) -> Any:
        """What the input holds, as the services take it."""
        if self.widget is None:
            return self.stored
        value = self.widget.value
        kind = self.spec.type
        if kind == "percent":
            return self.column.kind.from_cell(value)
        if kind == "date":
            return value.isoformat() if isinstance(value, date) else None
        if kind == "multi_select":
            return list(value or [])
        return value

    # -- showing ---------------------------------------------------------------------------------
    def show(
        self, value: Any, *, read_only: bool, zone: str | None = None, keep_typed: bool = False
    ) -> None:
        """Show the stored ``value``; with ``keep_typed`` the input keeps what was typed (a save
        failed) and only the read-only copy and "use theirs" learn the stored value."""
        self.stored = value
        self.display.object = value_html(self.spec, value, self.users, zone)
        if self.widget is None:
            return
        self.display.visible = read_only
        self.widget.visible = not read_only
        # a checkbox carries its own label; read-only, its value needs the one above
        self.label.visible = read_only or self.spec.type != "checkbox"
        self.widget.disabled = read_only
        if self.new_tag is not None:
            self.new_tag.visible = not read_only
        if keep_typed:
            return
        self._showing = True
        try:
            if isinstance(self.widget, pn.widgets.Select | pn.widgets.MultiChoice):
                self.widget.options = self._choices(value)
            self.widget.value = self.widget_value(value)
        finally:
            self._showing = False

    def use_stored(self) -> None:
        """Put the stored value back into the input (drop what was typed)."""
        self.clear()
        self.show(self.stored, read_only=not self.widget.visible if self.widget else True)

    def fail(self, message_html: str) -> None:
        """Say why what was typed is not saved (HTML: escape names in it)."""
        self.message.param.update(object=message_html, visible=True)
        self.layout.css_classes = [*self._classes(), "crm-field-failed"]

    def clear(self) -> None:
        self.message.param.update(object="", visible=False)
        self.layout.css_classes = self._classes()

    def _classes(self) -> list[str]:
        return ["crm-record-field", f"crm-field-{self.key}"]

    # -- typing ----------------------------------------------------------------------------------
    def _typed(self) -> None:
        if not self._showing:
            self._save(self.key, self.typed())

    def _add_tag(self, tag: str) -> None:
        """A new tag typed beside a multiple select that allows new ones: added and saved."""
        tag = (tag or "").strip()
        if self._showing or not tag or self.widget is None or self.new_tag is None:
            return
        chosen = list(self.widget.value or [])
        if tag not in chosen:
            self._showing = True
            try:
                self.widget.options = {**self.widget.options, escape_text(tag): tag}
                self.widget.value = [*chosen, tag]
            finally:
                self._showing = False
            self._save(self.key, self.typed())
        self._showing = True
        try:
            self.new_tag.value = ""
        finally:
            self._showing = False
