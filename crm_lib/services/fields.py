"""User-defined investor fields: each one a real column plus a ``grid_fields`` row describing it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.grid.fields import FieldSpec, column_key_for, load_fields
from crm_lib.storage.reads import LIVE, query_value
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import write

FIELDS = "grid_fields"


def list_fields(ctx: Context) -> list[FieldSpec]:
    """The grid's live fields in order."""
    return list(load_fields(ctx.db).values())


def _check_options(type_name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(options)
    if type_name in ("single_select", "multi_select"):
        choices = clean.get("choices", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
            raise ValidationError(
                "Choices must be a list of non-empty text values", field="options"
            )
        if len({c.lower() for c in choices}) != len(choices):
            raise ValidationError("Choices must be different from each other", field="options")
    return clean


def add_field(
    ctx: Context, label: str, type_name: str, options: Mapping[str, Any] | None = None
) -> FieldSpec:
    """Add a user-defined field (a new column of ``fundraising_investors``) at the end of the grid."""
    label = (label or "").strip()
    if not label:
        raise ValidationError("A field needs a name", field="label")
    try:
        kind = field_type(type_name)
    except FieldValueError as exc:
        raise ValidationError(str(exc), field="type") from None
    clean = _check_options(type_name, options or {})
    with write(ctx) as tx:
        if query_value(
            ctx.db, f"SELECT 1 FROM {FIELDS} WHERE lower(label) = lower(?) AND {LIVE}", [label]
        ):
            raise ValidationError(f"A field named {label!r} already exists", field="label")
        taken = {c.name for c in ctx.db["fundraising_investors"].columns}
        taken |= {row[0] for row in ctx.db.execute(f"SELECT key FROM {FIELDS}").fetchall()}
        key = column_key_for(label, taken)
        ctx.db.conn.execute(
            f"ALTER TABLE fundraising_investors ADD COLUMN {quote(key)} {kind.sql_type}"
        )
        position = query_value(ctx.db, f"SELECT COALESCE(MAX(position), -1) + 1 FROM {FIELDS}")
        tx.insert(
            FIELDS,
            {
                "key": key,
                "label": label,
                "type": type_name,
                "options": json.dumps(clean),
                "position": position,
                "is_builtin": 0,
                "is_editable": 1,
            },
        )
    return load_fields(ctx.db)[key]


def archive_field(ctx: Context, key: str, *, expected_version: int) -> None:
    """Hide a user-defined field from the grid; its column and data stay (restorable)."""
    spec = load_fields(ctx.db).get(key)
    if spec is None:
        raise ValidationError(f"Unknown field {key!r}", field=key)
    if spec.is_builtin:
        raise ValidationError(f"{spec.label} is a built-in field and cannot be removed", field=key)
    with write(ctx) as tx:
        tx.archive(FIELDS, spec.id, expected_version=expected_version)
