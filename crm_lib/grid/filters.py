"""Filter operators: one declarative table from operator name to SQL template and description.

A condition is ``(field, operator, value)``. The field is resolved through the grid's field list
(never pasted from input), the value is parsed by the field's type (so ``"$1,500"`` works on a
currency field and a bad date names the field), and goes into the query as a parameter.
The grid issue's filter trees (nested AND/OR groups) compile through this same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FieldValueError
from crm_lib.grid.fields import FieldSpec, resolve_field
from crm_lib.storage.sql import quote


@dataclass(frozen=True)
class Operator:
    name: str
    label: str
    sql: str  # {col} is the quoted column; ? the parsed value
    takes_value: bool = True
    text_pattern: bool = False  # the value is matched as a substring, not parsed by the type


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("eq", "is", "{col} = ?"),
        Operator("ne", "is not", "({col} IS NULL OR {col} != ?)"),
        Operator("gt", ">", "{col} > ?"),
        Operator("gte", "≥", "{col} >= ?"),
        Operator("lt", "<", "{col} < ?"),
        Operator("lte", "≤", "{col} <= ?"),
        Operator("contains", "contains", "{col} LIKE ? ESCAPE '\\'", text_pattern=True),
        Operator(
            "not_contains",
            "does not contain",
            "({col} IS NULL OR {col} NOT LIKE ? ESCAPE '\\')",
            text_pattern=True,
        ),
        Operator("empty", "is empty", "({col} IS NULL OR {col} = '' OR {col} = '[]')", False),
        Operator(
            "not_empty",
            "is not empty",
            "({col} IS NOT NULL AND {col} != '' AND {col} != '[]')",
            False,
        ),
    )
}


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def compile_conditions(
    fields: Mapping[str, FieldSpec],
    conditions: Sequence[tuple[str, str, Any]],
    prefix: str = "",
) -> tuple[str, list[Any]]:
    """``AND`` of the conditions as SQL plus its parameters ("" when there are none)."""
    parts: list[str] = []
    params: list[Any] = []
    for name, op_name, value in conditions:
        spec = resolve_field(fields, name)
        operator = OPERATORS.get(op_name)
        if operator is None:
            raise ValidationError(
                f"Unknown filter operator {op_name!r}; use {', '.join(OPERATORS)}", field=name
            )
        parts.append(operator.sql.format(col=prefix + quote(spec.key)))
        if not operator.takes_value:
            continue
        if operator.text_pattern:
            params.append(_like_pattern(str(value)))
            continue
        try:
            parsed = spec.parse(value)
        except FieldValueError as exc:
            raise ValidationError(f"Filter on {spec.label}: {exc}", field=spec.key) from None
        params.append(parsed)
    return " AND ".join(parts), params
