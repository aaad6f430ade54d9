"""Filters: one declarative table of operators, and the compiler from a view's filter tree to SQL.

A condition is ``(field, operator, value)``; a filter tree nests them in AND/OR groups::

    {"op": "and", "conditions": [
        {"field": "Status", "operator": "eq", "value": "Meeting"},
        {"op": "or", "conditions": [
            {"field": "Total invested", "operator": "gte", "value": "$1,000,000"},
            {"field": "Tags", "operator": "has_any_of", "value": ["Warm", "Intro"]}]}]}

Each operator says which kinds of field it applies to (text, number, date, select, multi, bool,
user) and how it compiles. Field names resolve through the grid's field list (never pasted from
input); values are parsed by the field's own type (``"$1,500"`` on a currency field, a date on a
date field, a choice of a select) and travel as parameters, so a value can never become SQL.
A formula field filters like the kind of value it produces (its stored result column).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.grid.fields import FieldSpec, resolve_field
from crm_lib.limits import text_problem
from crm_lib.storage.sql import quote

#: Field type -> kind of value, which decides the operators that apply.
KINDS = {
    "text": "text",
    "long_text": "text",
    "phone": "text",
    "url": "text",
    "email": "text",
    "number": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "date",
    "checkbox": "bool",
    "single_select": "select",
    "multi_select": "multi",
    "user": "user",
}
#: A formula field's declared result type -> kind.
FORMULA_KINDS = {"number": "number", "text": "text", "date": "date", "boolean": "bool"}
MAX_DEPTH = 5
MAX_CONDITIONS = 100
MAX_LIST_VALUES = 200

Compile = Callable[[str, Any], tuple[str, list[Any]]]


def kind_of(spec: FieldSpec) -> str:
    if spec.formula:
        return FORMULA_KINDS.get(str(spec.options.get("result_type", "text")), "text")
    return KINDS.get(spec.type, "text")


@dataclass(frozen=True)
class Operator:
    name: str
    label: str
    kinds: frozenset[str]
    compile: Compile  # (quoted column, parsed value) -> (sql, params)
    value: str = "one"  # one / none / today / pair / many / days / text (substring, not parsed)
    #: how it compiles on a multi-select (stored as a JSON list), where that differs
    compile_multi: Compile | None = None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (its % _ \\ escaped; use ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _simple(template: str) -> Compile:
    return lambda col, value: (template.format(col=col), [value])


def _no_value(template: str) -> Compile:
    return lambda col, value: (template.format(col=col), [])


def _date_is(col: str, value: Any) -> tuple[str, list[Any]]:
    return f"substr({col}, 1, 10) = ?", [value[:10]]


def _any_of(col: str, values: list[Any]) -> tuple[str, list[Any]]:
    marks = ", ".join("?" for _ in values)
    return f"{col} IN ({marks})", list(values)


def _multi_any(col: str, values: list[Any]) -> tuple[str, list[Any]]:
    marks = ", ".join("?" for _ in values)
    return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE value IN ({marks}))", list(values)


def _multi_all(col: str, values: list[Any]) -> tuple[str, list[Any]]:
    marks = ", ".join("?" for _ in values)
    wanted = len(set(values))
    sql = (
        f"(SELECT count(DISTINCT value) FROM json_each({col}) WHERE value IN ({marks})) = {wanted}"
    )
    return sql, list(values)


def _within_last_days(col: str, bounds: tuple[str, str]) -> tuple[str, list[Any]]:
    return f"(substr({col}, 1, 10) >= ? AND substr({col}, 1, 10) <= ?)", list(bounds)


TEXTUAL = frozenset({"text", "select", "multi"})
ORDERED = frozenset({"number", "date"})
EQUATABLE = frozenset({"text", "number", "select", "user", "bool"})
EMPTY_SQL = "({col} IS NULL OR {col} = '' OR {col} = '[]')"

OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "is", EQUATABLE, _simple("{col} = ?")),
        Operator("ne", "is not", EQUATABLE - {"bool"}, _simple("({col} IS NULL OR {col} != ?)")),
        Operator(
            "contains", "contains", TEXTUAL, _simple("{col} LIKE ? ESCAPE '\\'"), value="text"
        ),
        Operator(
            "not_contains",
            "does not contain",
            TEXTUAL,
            _simple("({col} IS NULL OR {col} NOT LIKE ? ESCAPE '\\')"),
            value="text",
        ),
        Operator(
            "empty",
            "is empty",
            frozenset(KINDS.values()) - {"bool"},
            _no_value(EMPTY_SQL),
            value="none",
        ),
        Operator(
            "not_empty",
            "is not empty",
            frozenset(KINDS.values()) - {"bool"},
            _no_value(f"NOT {EMPTY_SQL}"),
            value="none",
        ),
        Operator("gt", ">", ORDERED, _simple("{col} > ?")),
        Operator("gte", "≥", ORDERED, _simple("{col} >= ?")),
        Operator("lt", "<", ORDERED, _simple("{col} < ?")),
        Operator("lte", "≤", ORDERED, _simple("{col} <= ?")),
        Operator(
            "between",
            "between",
            ORDERED,
            lambda col, pair: (f"({col} >= ? AND {col} <= ?)", list(pair)),
            value="pair",
        ),
        Operator("is_on", "is", frozenset({"date"}), _date_is),
        Operator("before", "is before", frozenset({"date"}), _simple("substr({col}, 1, 10) < ?")),
        Operator("after", "is after", frozenset({"date"}), _simple("substr({col}, 1, 10) > ?")),
        Operator(
            "before_today",
            "is before today",  # overdue: "Next task due is before today"
            frozenset({"date"}),
            _simple("substr({col}, 1, 10) < ?"),
            value="today",
        ),
        Operator(
            "within_last_days",
            "is within the last N days",
            frozenset({"date"}),
            _within_last_days,
            value="days",
        ),
        Operator(
            "has_any_of",
            "has any of",
            frozenset({"select", "multi", "user"}),
            _any_of,
            value="many",
            compile_multi=_multi_any,
        ),
        Operator("has_all_of", "has all of", frozenset({"multi"}), _multi_all, value="many"),
    )
}


def operators_for(spec: FieldSpec) -> list[Operator]:
    """The operators that apply to a field, in menu order (for the filter builder)."""
    kind = kind_of(spec)
    return [op for op in OPERATORS.values() if kind in op.kinds]


#: A formula field's filter values parse as the type of value it produces.
FORMULA_VALUE_TYPES = {
    "number": "number",
    "date": "date",
    "datetime": "date",
    "boolean": "checkbox",
}


def _parser_of(spec: FieldSpec) -> Callable[[Any, Any], Any]:
    if spec.formula is not None:
        result = str(spec.options.get("result_type", "text"))
        return field_type(FORMULA_VALUE_TYPES.get(result, "text")).parse
    return spec.kind.parse


def _parse_one(spec: FieldSpec, value: Any) -> Any:
    """A filter value in the field's stored form (a multi-select compares one choice at a time;
    a date or datetime compares by day)."""
    try:
        parsed = _parser_of(spec)(value, spec.options)
    except FieldValueError as exc:
        raise ValidationError(f"Filter on {spec.label}: {exc}", field=spec.key) from None
    kind = kind_of(spec)
    if kind == "multi" and parsed is not None:
        items = json.loads(parsed)
        if len(items) != 1:
            raise ValidationError(
                f"Filter on {spec.label}: give one choice per value", field=spec.key
            )
        return items[0]
    if kind == "date" and isinstance(parsed, str):
        return parsed[:10]
    return parsed


def _value(spec: FieldSpec, op: Operator, value: Any, today: date) -> Any:
    if op.value == "none":
        return None
    if op.value == "today":
        return today.isoformat()
    if op.value == "text":
        text = str(value if value is not None else "")
        problem = text_problem(text, "filter_text")
        if problem is not None:
            raise ValidationError(f"Filter on {spec.label}: the text {problem}", field=spec.key)
        return like_pattern(text)
    if op.value == "days":
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValidationError(
                f"Filter on {spec.label}: the number of days must be a whole number", field=spec.key
            )
        try:
            days = int(value)
        except ValueError:
            shown = str(value) if len(str(value)) <= 40 else str(value)[:40] + "..."
            raise ValidationError(
                f"Filter on {spec.label}: {shown!r} is not a number of days", field=spec.key
            ) from None
        if not 0 <= days <= 36_500:
            raise ValidationError(
                f"Filter on {spec.label}: days must be between 0 and 36500", field=spec.key
            )
        return ((today - timedelta(days=days)).isoformat(), today.isoformat())
    if op.value == "pair":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValidationError(
                f"Filter on {spec.label}: 'between' needs two values [low, high]", field=spec.key
            )
        low, high = (_parse_one(spec, v) for v in value)
        if low is None or high is None:
            raise ValidationError(
                f"Filter on {spec.label}: 'between' needs both ends", field=spec.key
            )
        return (low, high)
    if op.value == "many":
        values = value if isinstance(value, list | tuple) else [value]
        if not values or len(values) > MAX_LIST_VALUES:
            raise ValidationError(
                f"Filter on {spec.label}: give 1 to {MAX_LIST_VALUES} values", field=spec.key
            )
        parsed = [_parse_one(spec, v) for v in values]
        return [p for p in parsed if p is not None]
    parsed = _parse_one(spec, value)
    if parsed is None:
        raise ValidationError(
            f"Filter on {spec.label}: '{op.label}' needs a value (use 'is empty' for blanks)",
            field=spec.key,
        )
    return parsed


def compile_condition(
    fields: Mapping[str, FieldSpec],
    name: str,
    op_name: str,
    value: Any,
    *,
    today: date,
    prefix: str = "",
) -> tuple[str, list[Any]]:
    """One condition as SQL and parameters, after checking the operator suits the field."""
    spec = resolve_field(fields, name)
    op = OPERATORS.get(op_name)
    if op is None:
        raise ValidationError(
            f"Unknown filter operator {op_name!r}; use {', '.join(OPERATORS)}", field=name
        )
    kind = kind_of(spec)
    if op.name == "eq" and kind == "date":
        op = OPERATORS["is_on"]  # "is" on a date means the same day
    if kind not in op.kinds:
        usable = ", ".join(o.name for o in operators_for(spec))
        raise ValidationError(
            f"'{op.label}' does not apply to {spec.label} ({spec.type}); use {usable}",
            field=spec.key,
        )
    compile = op.compile_multi if kind == "multi" and op.compile_multi else op.compile
    return compile(prefix + quote(spec.key), _value(spec, op, value, today))


def compile_conditions(
    fields: Mapping[str, FieldSpec],
    conditions: Sequence[tuple[str, str, Any]],
    prefix: str = "",
    *,
    today: date,
) -> tuple[str, list[Any]]:
    """``AND`` of flat conditions as SQL plus its parameters ("" when there are none).

    ``today`` (from the caller's clock) anchors relative date operators."""
    parts: list[str] = []
    params: list[Any] = []
    for name, op_name, value in conditions:
        sql, values = compile_condition(fields, name, op_name, value, today=today, prefix=prefix)
        parts.append(sql)
        params.extend(values)
    return " AND ".join(parts), params


def compile_tree(
    fields: Mapping[str, FieldSpec], tree: Mapping[str, Any] | None, *, today: date
) -> tuple[str, list[Any]]:
    """A filter tree (nested AND/OR groups) as one SQL expression ("" for no filter)."""
    counter = [0]

    def group(node: Any, depth: int, where: str) -> tuple[str, list[Any]]:
        if not isinstance(node, Mapping):
            raise ValidationError(f"Filter {where} must be an object", field="filters")
        if "conditions" in node:
            if depth > MAX_DEPTH:
                raise ValidationError(
                    f"Filters nest at most {MAX_DEPTH} groups deep", field="filters"
                )
            op = str(node.get("op", "and")).lower()
            if op not in ("and", "or"):
                raise ValidationError(
                    f"Filter group {where}: op must be 'and' or 'or', not {op!r}", field="filters"
                )
            children = node["conditions"]
            if not isinstance(children, list):
                raise ValidationError(
                    f"Filter group {where}: conditions must be a list", field="filters"
                )
            parts, params = [], []
            for index, child in enumerate(children):
                sql, values = group(child, depth + 1, f"{where}.{index + 1}")
                if sql:
                    parts.append(f"({sql})")
                    params.extend(values)
            return f" {op.upper()} ".join(parts), params
        counter[0] += 1
        if counter[0] > MAX_CONDITIONS:
            raise ValidationError(
                f"A filter has at most {MAX_CONDITIONS} conditions", field="filters"
            )
        missing = [k for k in ("field", "operator") if k not in node]
        if missing:
            raise ValidationError(
                f"Filter condition {where} needs {' and '.join(missing)}", field="filters"
            )
        return compile_condition(
            fields, str(node["field"]), str(node["operator"]), node.get("value"), today=today
        )

    if not tree:
        return "", []
    return group(tree, 1, "1")
