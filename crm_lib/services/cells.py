"""Many grid cells changed at once: a paste of a copied range, or the undo of one.

A paste is one decision by the user, so it is one write: every cell is validated first, and a
single bad cell (a word in a number column, an owner who is not on the team) refuses the whole
paste with a message naming each bad cell's row and column, and writes nothing. The cells that
pass are written in one transaction, so they share one audit transaction id (the activity feed
and history show them together) and one grid version bump. The result carries the undo: the
values that were there, at the versions the paste left, so undoing is the same call and
refuses (as a conflict, writing nothing) if someone changed one of those records since.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FieldValueError, parse_currency
from crm_lib.grid.fields import FieldSpec, load_fields
from crm_lib.grid.records import update_investor_row
from crm_lib.services.commitments import COMMITMENTS, remove_commitment, set_commitment
from crm_lib.services.funds import fund_columns
from crm_lib.services.investors import INVESTORS, decode_investor, validated_values
from crm_lib.storage.reads import LIVE
from crm_lib.storage.writes import write

#: Most cells one paste may change (a 100 x 50 range): larger pastes belong in an import.
MAX_CELLS = 5000
#: Bad cells named in a refused paste's message (the rest are counted).
ERRORS_SHOWN = 8
FUND_PREFIX = "fund:"


@dataclass(frozen=True)
class CellEdit:
    """One cell to change. ``expected_version`` is the version the grid showed: of the investor
    for a field, of the commitment (None: no commitment was shown) for a fund column."""

    investor_id: int
    column: str  # a field key, or "fund:<id>"
    value: Any
    expected_version: int | None
    row_label: str = ""  # how the grid names the row in messages ("row 3, Acme Capital")


@dataclass(frozen=True)
class CellsWritten:
    """What a paste changed: the saved investor rows, and the edits that would undo it."""

    rows: dict[int, dict[str, Any]]
    undo: list[CellEdit] = field(default_factory=list)
    changed: int = 0


def update_cells(ctx: Context, edits: Sequence[CellEdit]) -> CellsWritten:
    """Validate every cell, then write them all in one transaction (or nothing)."""
    if not edits:
        return CellsWritten(rows={})
    if len(edits) > MAX_CELLS:
        raise ValidationError(
            f"A paste can change at most {MAX_CELLS:,} cells at once ({len(edits):,} given);"
            " import a file for more"
        )
    fields = load_fields(ctx.db)
    funds = {f"{FUND_PREFIX}{f['id']}": f for f in fund_columns(ctx)}
    by_investor, fund_edits, errors = _checked(ctx, fields, funds, edits)
    if errors:
        raise ValidationError(_refusal(errors))
    rows: dict[int, dict[str, Any]] = {}
    undo: list[CellEdit] = []
    with write(ctx) as tx:
        for investor_id, (version, stored, labels) in by_investor.items():
            current = decode_investor(fields, tx.fetch(INVESTORS, investor_id))
            update_investor_row(tx, fields, investor_id, stored, expected_version=version)
            undo.extend(
                CellEdit(investor_id, key, current.get(key), None, labels[key]) for key in stored
            )
        fund_undo = [_write_fund_cell(ctx, edit, amount) for edit, amount in fund_edits]
        for investor_id in {*by_investor, *(e.investor_id for e, _ in fund_edits)}:
            rows[investor_id] = decode_investor(fields, tx.fetch(INVESTORS, investor_id))
    # an investor's undo expects the version the whole paste left (commitments bump it too)
    undo = [replace(e, expected_version=rows[e.investor_id]["version"]) for e in undo]
    return CellsWritten(rows=rows, undo=[*undo, *fund_undo], changed=len(edits))


def _checked(
    ctx: Context,
    fields: Mapping[str, FieldSpec],
    funds: Mapping[str, Mapping[str, Any]],
    edits: Sequence[CellEdit],
) -> tuple[
    dict[int, tuple[int | None, dict[str, Any], dict[str, str]]],
    list[tuple[CellEdit, float | None]],
    list[str],
]:
    """Each cell parsed by its field's type, and each row's cells checked together (a name
    cannot be emptied, an owner must be on the team); every problem is collected."""
    errors: list[str] = []
    by_investor: dict[int, tuple[int | None, dict[str, Any], dict[str, str]]] = {}
    fund_edits: list[tuple[CellEdit, float | None]] = []
    for edit in edits:
        where = edit.row_label or f"investor {edit.investor_id}"
        if edit.column in funds:
            try:
                amount = parse_currency(edit.value, {})
            except FieldValueError as exc:
                errors.append(f"{where}, {funds[edit.column]['name']}: {exc}")
                continue
            if amount is not None and amount < 0:
                errors.append(f"{where}, {funds[edit.column]['name']}: cannot be negative")
                continue
            fund_edits.append((edit, amount))
            continue
        spec = fields.get(edit.column)
        if spec is None:
            errors.append(f"{where}: there is no column {edit.column!r} any more")
            continue
        if not spec.is_editable or spec.type == "formula":
            errors.append(f"{where}, {spec.label}: is computed and cannot be pasted into")
            continue
        try:
            spec.parse(edit.value)
        except FieldValueError as exc:
            errors.append(f"{where}, {spec.label}: {exc}")
            continue
        version, values, labels = by_investor.setdefault(
            edit.investor_id, (edit.expected_version, {}, {})
        )
        values[spec.key] = edit.value
        labels[spec.key] = edit.row_label
    checked: dict[int, tuple[int | None, dict[str, Any], dict[str, str]]] = {}
    for investor_id, (version, values, labels) in by_investor.items():
        try:
            checked[investor_id] = (
                version,
                validated_values(ctx, fields, values, creating=False),
                labels,
            )
        except ValidationError as exc:
            where = next(iter(labels.values()), "") or f"investor {investor_id}"
            errors.append(f"{where}: {exc.message}")
    return checked, fund_edits, errors


def _refusal(errors: list[str]) -> str:
    shown = "; ".join(errors[:ERRORS_SHOWN])
    more = len(errors) - ERRORS_SHOWN
    tail = f"; and {more:,} more" if more > 0 else ""
    count = "1 cell does" if len(errors) == 1 else f"{len(errors):,} cells do"
    return f"Nothing was pasted: {count} not fit. {shown}{tail}."


def _write_fund_cell(ctx: Context, edit: CellEdit, amount: float | None) -> CellEdit:
    """Set, create or (blank) remove one commitment; returns the edit that puts it back."""
    fund_id = int(edit.column.removeprefix(FUND_PREFIX))
    existing = ctx.db.execute(
        f"SELECT id, amount FROM {COMMITMENTS} WHERE investor_id = ? AND fund_id = ? AND {LIVE}",
        [edit.investor_id, fund_id],
    ).fetchone()
    old = existing[1] if existing else None
    if amount is None:
        if existing is None:
            return CellEdit(edit.investor_id, edit.column, None, None, edit.row_label)
        remove_commitment(ctx, existing[0], expected_version=edit.expected_version or 0)
        return CellEdit(edit.investor_id, edit.column, old, None, edit.row_label)
    saved = set_commitment(
        ctx, edit.investor_id, fund_id, amount, expected_version=edit.expected_version
    )
    return CellEdit(edit.investor_id, edit.column, old, saved["version"], edit.row_label)
