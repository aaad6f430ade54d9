"""Grid fields: the columns of the investor grid, built-in and user-defined, read from grid_fields.

A user-defined field is a real column of ``fundraising_investors`` (so SQL, DuckDB, filters and sorts
see it like any other) described by a ``grid_fields`` row (label, type, options, position).
"""

from __future__ import annotations

import difflib
import json
import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import sqlite_utils

from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FieldType, FieldValueError, field_type
from crm_lib.limits import max_length


@dataclass(frozen=True)
class FieldSpec:
    """One live grid field."""

    id: int
    key: str
    label: str
    type: str
    options: Mapping[str, Any]
    position: int
    is_builtin: bool
    is_editable: bool
    formula: str | None = None
    version: int = 1

    @cached_property
    def kind(self) -> FieldType:
        return field_type(self.type)

    def parse(self, value: Any) -> Any:
        """Input value → stored value, or :class:`FieldValueError`."""
        return self.kind.parse(value, self.options)

    def decode(self, stored: Any) -> Any:
        """Stored value → Python value (JSON lists become lists, checkboxes booleans)."""
        return self.kind.decode(stored)


#: database handle -> (signature of grid_fields, fields read then). Keyed per connection, so a field
#: added inside an open transaction is seen by that transaction and by no one else until commit.
_FIELD_CACHE: weakref.WeakKeyDictionary[Any, tuple[tuple, dict[str, FieldSpec]]] = (
    weakref.WeakKeyDictionary()
)


def load_fields(db: sqlite_utils.Database) -> dict[str, FieldSpec]:
    """Live grid fields keyed by column name, in grid order.

    Every read and write of a record needs them, and they rarely change, so they are cached per
    connection and re-read only when the table's signature moves (row count, sum of versions,
    highest id: every insert, change and archive moves one of them). Costs one tiny aggregate
    instead of a query plus JSON decoding of every field's options.
    """
    signature = tuple(
        db.execute("SELECT count(*), sum(version), max(id) FROM grid_fields").fetchone()
    )
    cached = _FIELD_CACHE.get(db)
    if cached is not None and cached[0] == signature:
        return dict(cached[1])
    fields = _read_fields(db)
    _FIELD_CACHE[db] = (signature, fields)
    return dict(fields)


def _read_fields(db: sqlite_utils.Database) -> dict[str, FieldSpec]:
    rows = db.execute(
        "SELECT id, key, label, type, options, position, is_builtin, is_editable, formula,"
        " version"
        " FROM grid_fields WHERE deleted_at IS NULL ORDER BY position, id"
    ).fetchall()
    return {
        row[1]: FieldSpec(
            id=row[0],
            key=row[1],
            label=row[2],
            type=row[3],
            options=json.loads(row[4]),
            position=row[5],
            is_builtin=bool(row[6]),
            is_editable=bool(row[7]),
            formula=row[8],
            version=row[9],
        )
        for row in rows
    }


def resolve_field(fields: Mapping[str, FieldSpec], name: str) -> FieldSpec:
    """Find a field by column key or (case-insensitively) by label, suggesting near misses."""
    if name in fields:
        return fields[name]
    lowered = name.strip().lower()
    for spec in fields.values():
        if spec.label.lower() == lowered or spec.key.lower() == lowered:
            return spec
    if len(name) > max_length("field_label"):  # no field has such a name: do not echo it all
        shown = name[:40] + "..."
        raise ValidationError(
            f"Unknown field {shown!r} ({len(name):,} characters; field names have at most "
            f"{max_length('field_label')})",
            field=shown,
        )
    candidates = [s.label for s in fields.values()] + list(fields)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    hint = f" — did you mean {close[0]!r}?" if close else ""
    raise ValidationError(f"Unknown field {name!r}{hint}", field=name)


def parse_values(
    fields: Mapping[str, FieldSpec],
    values: Mapping[str, Any],
    *,
    row: int | None = None,
    allow_readonly: bool = False,
) -> dict[str, Any]:
    """Validate and convert input values to their stored form, keyed by column.

    Raises :class:`ValidationError` naming the field (and the row, for bulk input).
    """
    where = f"Row {row}, " if row is not None else ""
    stored: dict[str, Any] = {}
    for name, value in values.items():
        spec = resolve_field(fields, name)
        if not spec.is_editable and not allow_readonly:
            raise ValidationError(
                f"{where}{spec.label} is calculated and cannot be edited", field=spec.key, row=row
            )
        try:
            stored[spec.key] = spec.parse(value)
        except FieldValueError as exc:
            raise ValidationError(
                f"{where}{spec.label}: {exc}", field=spec.key, row=row, column=spec.label
            ) from None
    return stored


_NOT_IDENTIFIER = re.compile(r"[^a-z0-9]+")


def column_key_for(label: str, taken: set[str]) -> str:
    """A safe, unused column name for a new field labelled ``label``."""
    base = _NOT_IDENTIFIER.sub("_", label.lower()).strip("_") or "field"
    if base[0].isdigit():
        base = f"f_{base}"
    base = base[:48]
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key
