"""Grid fields: add, rename, reorder, retype, archive and restore them; formulas and select options.

Each user-defined field is a real column of ``fundraising_investors`` plus a ``grid_fields`` row
describing it. Every change here keeps three things true at commit:

- formulas still compile: a rename rewrites the formulas that name the field, and archiving or
  retyping a field that a formula reads is refused with the formulas named;
- stored formula results are current: a new or edited formula recomputes its column and the
  columns downstream of it, in bulk, in the same transaction, within the change's total formula
  budget (``settings.formula_budget_s``, see :mod:`crm_lib.grid.records`): a formula too costly
  for every investor is refused with a :class:`FormulaError` naming it, and nothing is written;
- no value is lost: a type change that alters the column's SQL type keeps the old column under a
  ``<key>__before_<n>`` name, and every value it changes is in the audit log (old → new).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import FormulaError, NotFound, ValidationError
from crm_lib.formulas import FormulaGraph, rename_references
from crm_lib.grid.field_types import FIELD_TYPES, FieldValueError, field_type
from crm_lib.grid.field_types import TYPE_LABELS as TYPE_LABELS  # the apps name types with it
from crm_lib.grid.fields import FieldSpec, column_key_for, load_fields
from crm_lib.grid.formula_fields import (
    compile_field_formula,
    grid_formulas,
    result_sql_type,
    stored_result,
)
from crm_lib.grid.records import INVESTORS, recompute_formula_columns, update_investor_row
from crm_lib.limits import check_text, max_length
from crm_lib.storage.reads import LIVE, query_dicts, query_value
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import write

FIELDS = "grid_fields"
FORMULA = "formula"
#: Types a person can give a field (formula fields are made with a formula instead).
EDITABLE_TYPES = tuple(name for name in FIELD_TYPES if name != FORMULA)
LABEL_MAX = max_length("field_label")
PREVIEW_LIMIT = 20
#: Option colours, as Airtable's palette names them; the grid maps each to a pill colour.
COLORS = ("blue", "cyan", "teal", "green", "yellow", "orange", "red", "pink", "purple", "gray")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class FormulaCheck:
    """What the formula editor shows as you type: the result type, or the error and where."""

    ok: bool
    result_type: str | None = None
    dependencies: tuple[str, ...] = ()
    message: str | None = None
    position: int | None = None
    samples: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class TypeChangePreview:
    """How many values a type change would convert, and the ones it could not (with reasons)."""

    field: str
    new_type: str
    total: int
    convertible: int
    failures: tuple[dict[str, Any], ...]  # {id, name, value, error}, the first PREVIEW_LIMIT
    failure_count: int


def list_fields(ctx: Context) -> list[FieldSpec]:
    """The grid's live fields in order."""
    return list(load_fields(ctx.db).values())


def _field(ctx: Context, key: str) -> FieldSpec:
    spec = load_fields(ctx.db).get(key)
    if spec is None:
        raise NotFound("field", key)
    return spec


def _label(ctx: Context, label: str, *, own_id: int | None = None) -> str:
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError(f"A field needs a name of 1 to {LABEL_MAX} characters", field="label")
    check_text(label, "field_label", field="label", label="Field name")
    if any(ch in label for ch in "{}"):
        raise ValidationError("A field name cannot contain { or }", field="label")
    clash = query_value(
        ctx.db,
        f"SELECT id FROM {FIELDS} WHERE lower(label) = lower(?) AND {LIVE} AND id IS NOT ?",
        [label, own_id],
    )
    if clash is not None:
        raise ValidationError(f"A field named {label!r} already exists", field="label")
    return label


def _check_options(type_name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    clean = dict(options)
    if type_name in ("single_select", "multi_select"):
        choices = clean.get("choices", [])
        if not isinstance(choices, list) or not all(
            isinstance(c, str) and c.strip() for c in choices
        ):
            raise ValidationError(
                "Choices must be a list of non-empty text values", field="options"
            )
        clean["choices"] = [
            check_text(c.strip(), "option_name", field="options", label=f"Choice {n}")
            for n, c in enumerate(choices, start=1)
        ]
        if len({c.lower() for c in clean["choices"]}) != len(choices):
            raise ValidationError("Choices must be different from each other", field="options")
        colors = clean.get("colors", {})
        if not isinstance(colors, Mapping) or any(
            not isinstance(v, str) or (v not in COLORS and not _COLOR.match(v))
            for v in colors.values()
        ):
            raise ValidationError(
                f"Colours must be one of {', '.join(COLORS)} or #rrggbb", field="options"
            )
        clean["colors"] = {k: v for k, v in colors.items() if k in clean["choices"]}
    return clean


def _formula_readers(ctx: Context, spec: FieldSpec) -> list[str]:
    fields = load_fields(ctx.db)
    return grid_formulas(fields, ctx.clock).readers_of(spec.key)


def add_field(
    ctx: Context,
    label: str,
    type_name: str,
    options: Mapping[str, Any] | None = None,
    *,
    formula: str | None = None,
) -> FieldSpec:
    """Add a field at the end of the grid: a typed column, or (``type_name="formula"``) a formula
    whose results are computed for every row now and kept current on every edit."""
    label = _label(ctx, label)
    fields = load_fields(ctx.db)
    if type_name == FORMULA:
        if not (formula or "").strip():
            raise FormulaError("A formula field needs a formula", position=0, field="formula")
        compiled = compile_field_formula(formula or "", fields, clock=ctx.clock)
        result_type = compiled.result_type.value
        clean: dict[str, Any] = {"result_type": result_type}
        sql_type = result_sql_type(result_type)
    else:
        try:
            kind = field_type(type_name)
        except FieldValueError as exc:
            raise ValidationError(str(exc), field="type") from None
        clean = _check_options(type_name, options or {})
        sql_type = kind.sql_type
    with write(ctx) as tx:
        taken = {c.name for c in ctx.db[INVESTORS].columns}
        taken |= {row[0] for row in ctx.db.execute(f"SELECT key FROM {FIELDS}").fetchall()}
        key = column_key_for(label, taken)
        tx.conn.execute(f"ALTER TABLE {INVESTORS} ADD COLUMN {quote(key)} {sql_type}")
        position = query_value(ctx.db, f"SELECT COALESCE(MAX(position), -1) + 1 FROM {FIELDS}")
        tx.insert(
            FIELDS,
            {
                "key": key,
                "label": label,
                "type": type_name,
                "options": json.dumps(clean),
                "formula": formula.strip() if type_name == FORMULA and formula else None,
                "position": position,
                "is_builtin": 0,
                "is_editable": 0 if type_name == FORMULA else 1,
            },
        )
        if type_name == FORMULA:
            recompute_formula_columns(tx, load_fields(ctx.db), [key])
    return load_fields(ctx.db)[key]


def check_formula(
    ctx: Context, text: str, *, key: str | None = None, samples: int = 3
) -> FormulaCheck:
    """Validate a formula as the editor's user types it: its result type and the fields it reads,
    plus its value for the first few investors; or the engine's message and position."""
    fields = load_fields(ctx.db)
    if not text.strip():
        return FormulaCheck(ok=False, message="Type a formula, like {Total invested} * 0.02")
    try:
        compiled = compile_field_formula(text, fields, own_key=key, clock=ctx.clock)
        if key is not None and key in fields:
            # The edited formula must not reach itself through the formulas it reads.
            others = dict(grid_formulas(fields, ctx.clock).graph.formulas)
            others[fields[key].label] = compiled
            FormulaGraph(others)
    except FormulaError as exc:
        return FormulaCheck(ok=False, message=exc.message, position=exc.position)
    label_to_key = {s.label: s.key for s in fields.values()}
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {INVESTORS} WHERE {LIVE} ORDER BY name COLLATE NOCASE, id LIMIT ?",
        [samples],
    )
    examples = []
    for row in rows:
        values = {label: row.get(k) for label, k in label_to_key.items()}
        value = compiled.evaluate(values)
        examples.append({"id": row["id"], "name": row["name"], "value": stored_result(value)})
    return FormulaCheck(
        ok=True,
        result_type=compiled.result_type.value,
        dependencies=tuple(sorted(compiled.dependencies)),
        samples=tuple(examples),
    )


def update_formula(ctx: Context, key: str, text: str, *, expected_version: int) -> FieldSpec:
    """Change a formula field's formula; its column and the columns downstream are recomputed."""
    spec = _field(ctx, key)
    if spec.formula is None:
        raise ValidationError(f"{spec.label} is not a formula field", field=key)
    check = check_formula(ctx, text, key=key, samples=0)
    if not check.ok:
        raise FormulaError(check.message or "Invalid formula", position=check.position, field=key)
    with write(ctx) as tx:
        if check.result_type != spec.options.get("result_type"):
            _downstream_accept(ctx, spec, str(check.result_type))
            _replace_column(ctx, spec.key, result_sql_type(str(check.result_type)), keep=False)
        tx.update(
            FIELDS,
            spec.id,
            {
                "formula": text.strip(),
                "options": json.dumps({**spec.options, "result_type": check.result_type}),
            },
            expected_version=expected_version,
        )
        recompute_formula_columns(tx, load_fields(ctx.db), [key])
    return load_fields(ctx.db)[key]


def _downstream_accept(ctx: Context, spec: FieldSpec, new_type: str) -> None:
    """Refuse a change of what a field holds if a formula reading it would no longer compile."""
    fields = load_fields(ctx.db)
    trial = dict(fields)
    if spec.formula is not None:
        trial[spec.key] = replace(spec, options={**spec.options, "result_type": new_type})
    else:
        trial[spec.key] = replace(spec, type=new_type)
    for label in grid_formulas(fields, ctx.clock).readers_of(spec.key):
        reader = next(s for s in fields.values() if s.label == label)
        try:
            compile_field_formula(str(reader.formula), trial, own_key=reader.key, clock=ctx.clock)
        except FormulaError as exc:
            raise ValidationError(
                f"The formula of {{{label}}} would break: {exc.message}", field=spec.key
            ) from None


def _replace_column(ctx: Context, key: str, sql_type: str, *, keep: bool) -> str | None:
    """Give column ``key`` a new SQL type (SQLite cannot alter one): the old column is renamed
    (``keep``: its values stay in the file) or dropped (formula results: derived, recomputable)."""
    old_name = None
    if keep:
        taken = {c.name for c in ctx.db[INVESTORS].columns}
        n = 1
        while f"{key}__before_{n}" in taken:
            n += 1
        old_name = f"{key}__before_{n}"
        ctx.db.conn.execute(
            f"ALTER TABLE {INVESTORS} RENAME COLUMN {quote(key)} TO {quote(old_name)}"
        )
    else:
        ctx.db.conn.execute(f"ALTER TABLE {INVESTORS} DROP COLUMN {quote(key)}")
    ctx.db.conn.execute(f"ALTER TABLE {INVESTORS} ADD COLUMN {quote(key)} {sql_type}")
    return old_name


def rename_field(ctx: Context, key: str, label: str, *, expected_version: int) -> FieldSpec:
    """Give a field a new name; formulas that name it are rewritten to the new name."""
    spec = _field(ctx, key)
    label = _label(ctx, label, own_id=spec.id)
    fields = load_fields(ctx.db)
    with write(ctx) as tx:
        tx.update(FIELDS, spec.id, {"label": label}, expected_version=expected_version)
        for other in fields.values():
            if other.formula and other.key != key:
                rewritten = rename_references(other.formula, spec.label, label)
                if rewritten != other.formula:
                    tx.update(FIELDS, other.id, {"formula": rewritten}, expected_version=None)
    return load_fields(ctx.db)[key]


def move_field(ctx: Context, key: str, position: int) -> list[FieldSpec]:
    """Put a field at ``position`` (0-based) in the grid's default order; others shift."""
    fields = load_fields(ctx.db)
    if key not in fields:
        raise NotFound("field", key)
    order = [k for k in fields if k != key]
    position = max(0, min(int(position), len(order)))
    order.insert(position, key)
    with write(ctx) as tx:
        for index, name in enumerate(order):
            if fields[name].position != index:
                tx.update(FIELDS, fields[name].id, {"position": index}, expected_version=None)
    return list_fields(ctx)


def update_choices(
    ctx: Context,
    key: str,
    choices: Sequence[str],
    *,
    colors: Mapping[str, str] | None = None,
    renames: Mapping[str, str] | None = None,
    expected_version: int,
) -> FieldSpec:
    """Set a select field's options: add, reorder, recolour, and rename (``renames`` old → new,
    which also changes every record holding the old option, audited). Removing an option that
    records still hold is refused: rename it or change those records first."""
    spec = _field(ctx, key)
    if spec.type not in ("single_select", "multi_select"):
        raise ValidationError(f"{spec.label} has no options", field=key)
    renames = {old: new.strip() for old, new in (renames or {}).items() if old != new.strip()}
    clean = _check_options(
        spec.type, {**spec.options, "choices": list(choices), "colors": dict(colors or {})}
    )
    for new in renames.values():
        if new not in clean["choices"]:
            raise ValidationError(f"Renamed option {new!r} is not among the choices", field=key)
    kept = set(clean["choices"]) | set(renames)
    removed = [c for c in spec.options.get("choices", []) if c not in kept]
    with write(ctx) as tx:
        for choice in removed:
            holders = _holders(ctx, spec, choice)
            if holders:
                raise ValidationError(
                    f"{holders} investors still have {choice!r} in {spec.label};"
                    " rename the option instead, or change them first",
                    field=key,
                )
        tx.update(
            FIELDS, spec.id, {"options": json.dumps(clean)}, expected_version=expected_version
        )
        fields = load_fields(ctx.db)
        for old, new in renames.items():
            _rename_choice_in_records(ctx, tx, fields, spec, old, new)
    return load_fields(ctx.db)[key]


def _holding(spec: FieldSpec) -> str:
    """WHERE clause of live rows whose select field holds the choice given as the parameter."""
    column = quote(spec.key)
    if spec.type == "single_select":
        return f"{LIVE} AND {column} = ?"
    return (
        f"{LIVE} AND {column} IS NOT NULL"
        f" AND EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)"
    )


def _holders(ctx: Context, spec: FieldSpec, choice: str) -> int:
    sql = f"SELECT count(*) FROM {INVESTORS} WHERE {_holding(spec)}"
    return int(query_value(ctx.db, sql, [choice]))


def _rename_choice_in_records(
    ctx: Context, tx: Any, fields: Mapping[str, FieldSpec], spec: FieldSpec, old: str, new: str
) -> None:
    sql = f"SELECT id, {quote(spec.key)} FROM {INVESTORS} WHERE {_holding(spec)}"
    for investor_id, stored in ctx.db.execute(sql, [old]).fetchall():
        if spec.type == "single_select":
            value: Any = new
        else:
            items = [new if item == old else item for item in json.loads(stored)]
            value = json.dumps(list(dict.fromkeys(items)))
        update_investor_row(tx, fields, investor_id, {spec.key: value}, expected_version=None)


def preview_type_change(
    ctx: Context, key: str, new_type: str, options: Mapping[str, Any] | None = None
) -> TypeChangePreview:
    """What changing a field's type would do: how many values convert, and which would not
    (they would become blank). Nothing is written."""
    spec, kind, clean = _type_change_inputs(ctx, key, new_type, options)
    total, failures, count = 0, [], 0
    for investor_id, name, stored in _stored_values(ctx, spec):
        total += 1
        try:
            kind.parse(_as_input(spec, stored), clean)
        except FieldValueError as exc:
            count += 1
            if len(failures) < PREVIEW_LIMIT:
                failures.append(
                    {"id": investor_id, "name": name, "value": stored, "error": str(exc)}
                )
    return TypeChangePreview(
        field=key,
        new_type=new_type,
        total=total,
        convertible=total - count,
        failures=tuple(failures),
        failure_count=count,
    )


def _type_change_inputs(
    ctx: Context, key: str, new_type: str, options: Mapping[str, Any] | None
) -> tuple[FieldSpec, Any, dict[str, Any]]:
    spec = _field(ctx, key)
    if spec.is_builtin:
        raise ValidationError(f"{spec.label} is a built-in field; its type is fixed", field=key)
    if spec.formula is not None or new_type == FORMULA:
        raise ValidationError(
            "A formula field and a data field cannot turn into each other; add a new field",
            field=key,
        )
    try:
        kind = field_type(new_type)
    except FieldValueError as exc:
        raise ValidationError(str(exc), field="type") from None
    return spec, kind, _check_options(new_type, options or {})


def _stored_values(ctx: Context, spec: FieldSpec) -> list[tuple[int, str, Any]]:
    return ctx.db.execute(
        f"SELECT id, name, {quote(spec.key)} FROM {INVESTORS}"
        f" WHERE {quote(spec.key)} IS NOT NULL ORDER BY id"
    ).fetchall()


def _as_input(spec: FieldSpec, stored: Any) -> Any:
    """A stored value as input to another type's parser (a multi-select's list as its items)."""
    if spec.type == "multi_select" and isinstance(stored, str):
        return ", ".join(json.loads(stored))
    if spec.type == "checkbox":
        return bool(stored)
    return stored


def change_field_type(
    ctx: Context,
    key: str,
    new_type: str,
    options: Mapping[str, Any] | None = None,
    *,
    expected_version: int,
) -> FieldSpec:
    """Change a field's type, converting every value (archived rows too); values that do not
    convert become blank. Each changed value is audited, so history can restore it."""
    spec, kind, clean = _type_change_inputs(ctx, key, new_type, options)
    _downstream_accept(ctx, spec, new_type)
    values = _stored_values(ctx, spec)
    with write(ctx) as tx:
        if kind.sql_type != spec.kind.sql_type:
            _replace_column(ctx, key, kind.sql_type, keep=True)
        tx.update(
            FIELDS,
            spec.id,
            {"type": new_type, "options": json.dumps(clean)},
            expected_version=expected_version,
        )
        moved = kind.sql_type != spec.kind.sql_type
        converted = []
        for investor_id, _name, stored in values:
            try:
                new = kind.parse(_as_input(spec, stored), clean)
            except FieldValueError:
                new = None
            if moved or new != stored:
                converted.append((investor_id, stored, new))
        tx.conn.executemany(
            f"UPDATE {INVESTORS} SET {quote(key)} = ? WHERE id = ?",
            [(new, investor_id) for investor_id, _old, new in converted],
        )
        for investor_id, old, new in converted:
            if old != new:
                tx.audit_change(INVESTORS, investor_id, key, old, new)
        recompute_formula_columns(tx, load_fields(ctx.db), [key])
    return load_fields(ctx.db)[key]


def archive_field(ctx: Context, key: str, *, expected_version: int) -> None:
    """Hide a user-defined field from the grid; its column and data stay (restorable).
    Refused while a formula reads it (the formulas are named)."""
    spec = _field(ctx, key)
    if spec.is_builtin:
        raise ValidationError(f"{spec.label} is a built-in field and cannot be removed", field=key)
    readers = _formula_readers(ctx, spec)
    if readers:
        names = ", ".join("{" + r + "}" for r in readers)
        raise ValidationError(
            f"{spec.label} is used by the formula of {names}; change that formula first",
            field=key,
        )
    with write(ctx) as tx:
        tx.archive(FIELDS, spec.id, expected_version=expected_version)


def list_archived_fields(ctx: Context) -> list[dict[str, Any]]:
    """Archived fields, newest first (what "restore a field" offers)."""
    return query_dicts(
        ctx.db,
        f"SELECT id, key, label, type, version, deleted_at, deleted_by FROM {FIELDS}"
        " WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC",
    )


def restore_field(ctx: Context, key: str, *, expected_version: int) -> FieldSpec:
    """Bring an archived field back (at the end of the grid), with its values."""
    rows = query_dicts(ctx.db, f"SELECT * FROM {FIELDS} WHERE key = ?", [key])
    if not rows:
        raise NotFound("field", key)
    row = rows[0]
    _label(ctx, row["label"], own_id=row["id"])
    with write(ctx) as tx:
        position = query_value(
            ctx.db, f"SELECT COALESCE(MAX(position), -1) + 1 FROM {FIELDS} WHERE {LIVE}"
        )
        tx.restore(FIELDS, row["id"], expected_version=expected_version)
        tx.update(FIELDS, row["id"], {"position": position}, expected_version=None)
        if row["formula"] is not None:
            recompute_formula_columns(tx, load_fields(ctx.db), [key])
    return load_fields(ctx.db)[key]


def refresh_formulas(ctx: Context) -> int:
    """Recompute every formula column (after a restore, or daily for TODAY()/NOW() formulas).
    Returns the number of rows written."""
    fields = load_fields(ctx.db)
    formulas = grid_formulas(fields, ctx.clock)
    if not formulas.formula_keys:
        return 0
    with write(ctx) as tx:
        return recompute_formula_columns(tx, fields, sorted(formulas.formula_keys))
