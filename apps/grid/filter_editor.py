"""The filter tree's editor (nested AND/OR groups of field, operator, value), shared by the
grid's view builder and the automations page: the tree is plain data (the JSON the services
store) and each widget writes its value straight back into it; adding or removing a condition
or group inserts or removes just its row.

A host mixes in :class:`FilterTreeEditing` and gives ``filter_source``: an object with the
grid's ``fields`` (key -> FieldSpec), ``operators`` (key -> [{name, label, value}]) and
``users`` (id -> name), as :class:`apps.grid.store.GridStore` has them.
"""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.markup import html_labels
from crm_lib import limits

MAX_NESTING = 3  # groups the editor lets you nest (the service accepts 5)


def wrapping(*items: Any, css_classes: list[str] | None = None) -> pn.FlexBox:
    """A row of widgets that wraps onto the next line where the panel is too narrow for it (a
    condition in a nested group, three buttons), instead of running past the panel's edge."""
    return pn.FlexBox(
        *items,
        flex_wrap="wrap",
        align_items="center",
        sizing_mode="stretch_width",
        css_classes=css_classes or [],
    )


def drop(items: list, item: Any, holder: pn.Column, widget: Any) -> None:
    """Remove a condition, group or sort: the item from the data, by identity (two equal
    conditions are still two), and its widget from the column it sits in."""
    items[:] = [other for other in items if other is not item]
    holder.remove(widget)


def split_values(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(",") if part.strip()]


class FilterTreeEditing:
    """The filter tree's widgets, built from and writing back into the tree's data."""

    filter_source: Any

    def _field_options(self) -> dict[str, str]:
        return {spec.label: key for key, spec in self.filter_source.fields.items()}

    def _operators(self, key: str) -> list[dict[str, str]]:
        return self.filter_source.operators.get(key, [])

    def _group(
        self, group: dict[str, Any], depth: int, parent: list | None, holder: pn.Column
    ) -> pn.Column:
        """A group's widgets: its AND/OR, its children, then its buttons (always last, so a new
        child goes just before them). ``holder`` is the column the group sits in."""
        column = pn.Column(
            styles={
                "border-left": "3px solid var(--crm-color-primary-subtle)",
                "padding-left": "6px",
            }
            if depth > 1
            else {},
            sizing_mode="stretch_width",
            css_classes=[f"crm-group-{depth}"],
        )
        op = pn.widgets.RadioButtonGroup(
            options={"All of (AND)": "and", "Any of (OR)": "or"},
            value=group.get("op", "and"),
            color="light",
            css_classes=["crm-group-op"],
        )
        op.param.watch(lambda e: group.__setitem__("op", e.new), "value")
        children: list[Any] = []
        for child in group["conditions"]:
            if "conditions" in child:
                children.append(self._group(child, depth + 1, group["conditions"], column))
            else:
                children.append(self._condition(child, group["conditions"], column))
        add_condition = pn.widgets.Button(
            label="+ Condition", color="light", css_classes=["crm-add-condition"]
        )
        add_condition.on_click(lambda _: self._add_condition(group, column))
        buttons: list[Any] = [add_condition]
        if depth < MAX_NESTING:
            add_group = pn.widgets.Button(
                label="+ Group", color="light", css_classes=["crm-add-group"]
            )
            add_group.on_click(lambda _: self._add_group(group, column, depth + 1))
            buttons.append(add_group)
        if parent is not None:
            remove = pn.widgets.Button(label="Remove group", color="light")
            remove.on_click(lambda _: drop(parent, group, holder, column))
            buttons.append(remove)
        column.objects = [op, *children, wrapping(*buttons)]
        return column

    def _add_condition(
        self, group: dict[str, Any], column: pn.Column, key: str | None = None
    ) -> None:
        condition = self._new_condition(key)
        group["conditions"].append(condition)
        column.insert(len(column) - 1, self._condition(condition, group["conditions"], column))

    def _add_group(self, group: dict[str, Any], column: pn.Column, depth: int) -> None:
        child = {"op": "or", "conditions": [self._new_condition()]}
        group["conditions"].append(child)
        column.insert(len(column) - 1, self._group(child, depth, group["conditions"], column))

    def _new_condition(self, key: str | None = None) -> dict[str, Any]:
        key = key or next(iter(self.filter_source.fields), "name")
        ops = self._operators(key)
        return {"field": key, "operator": ops[0]["name"] if ops else "contains", "value": ""}

    def _condition(
        self, condition: dict[str, Any], siblings: list, holder: pn.Column
    ) -> pn.FlexBox:
        field = pn.widgets.Select(
            options=self._field_options(), value=condition["field"], width=130
        )
        operator = pn.widgets.Select(
            options=self._operator_options(condition["field"]),
            value=condition["operator"],
            width=120,
        )
        remove = pn.widgets.Button(label="✕", width=32, color="light")
        row = wrapping(
            field, operator, self._condition_value(condition), remove, css_classes=["crm-condition"]
        )
        setting_operators = False  # the field's new operators are set: not a user's choice

        def field_changed(event: Any) -> None:
            nonlocal setting_operators
            condition.update(field=event.new, value="")
            names = [o["name"] for o in self._operators(event.new)]
            if condition["operator"] not in names:
                condition["operator"] = names[0] if names else "eq"
            setting_operators = True
            try:
                operator.param.update(
                    options=self._operator_options(event.new), value=condition["operator"]
                )
            finally:
                setting_operators = False
            row[2] = self._condition_value(condition)

        def operator_changed(event: Any) -> None:
            if setting_operators:
                return
            condition["operator"] = event.new
            row[2] = self._condition_value(condition)

        field.param.watch(field_changed, "value")
        operator.param.watch(operator_changed, "value")
        remove.on_click(lambda _: drop(siblings, condition, holder, row))
        return row

    def _operator_options(self, key: str) -> dict[str, str]:
        return {o["label"]: o["name"] for o in self._operators(key)}

    def _condition_value(self, condition: dict[str, Any]) -> Any:
        """The value widget that fits the condition's operator (none, one, many, a pair...)."""
        ops = self._operators(condition["field"])
        kind = next((o["value"] for o in ops if o["name"] == condition["operator"]), "one")
        return self._value_widget(condition, kind)

    def _value_widget(self, condition: dict[str, Any], kind: str) -> Any:
        spec = self.filter_source.fields.get(condition["field"])
        choices = list(spec.options.get("choices", [])) if spec is not None else []
        if spec is not None and spec.type == "user":
            choices_map = {name: user_id for user_id, name in self.filter_source.users.items()}
        else:
            choices_map = {c: c for c in choices}
        value = condition.get("value")

        def store(new: Any) -> None:
            condition["value"] = new

        if kind in ("none", "today"):  # no value to give ("today" is the CRM's date)
            condition["value"] = None
            return pn.Spacer(width=10)
        if kind == "many" and choices_map:
            current = value if isinstance(value, list) else []
            widget = pn.widgets.MultiChoice(
                options=html_labels(choices_map),  # labels are HTML there; values stay raw
                value=[v for v in current if v in choices_map.values()],
                width=150,
            )
            widget.param.watch(lambda e: store(list(e.new)), "value")
            return widget
        if kind == "one" and choices_map:
            options = dict(choices_map)
            widget = pn.widgets.Select(
                options=options,
                value=value if value in options.values() else next(iter(options.values()), None),
                width=150,
            )
            store(widget.value)
            widget.param.watch(lambda e: store(e.new), "value")
            return widget
        if kind == "pair":
            low, high = (value or ["", ""]) if isinstance(value, list) else ("", "")
            first = pn.widgets.TextInput(
                value=str(low or ""),
                width=70,
                placeholder="from",
                max_length=limits.max_length("filter_text"),
            )
            second = pn.widgets.TextInput(
                value=str(high or ""),
                width=70,
                placeholder="to",
                max_length=limits.max_length("filter_text"),
            )
            store([first.value, second.value])
            first.param.watch(lambda e: store([e.new, second.value]), "value_input")
            second.param.watch(lambda e: store([first.value, e.new]), "value_input")
            return wrapping(first, second)
        if kind == "days":
            widget = pn.widgets.IntInput(
                value=int(value) if str(value or "").isdigit() else 7, start=0, width=80
            )
            store(widget.value)
            widget.param.watch(lambda e: store(e.new), "value")
            return widget
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
        widget = pn.widgets.TextInput(
            value=text, width=150, placeholder="value", max_length=limits.max_length("filter_text")
        )
        many = kind == "many"
        widget.param.watch(lambda e: store(split_values(e.new) if many else e.new), "value_input")
        return widget
