"""A pasted range, and edits kept in the browser while offline, as the service's cell edits.

The browser sends what it has: pasted text per cell (what a spreadsheet or this grid copied),
or a kept edit's cell value (as Tabulator held it). Both become the value the field's type
parses (:mod:`crm_lib.grid.field_types`), so a paste is validated exactly as typing is; what a
column cannot take (the open mark, people, bookkeeping, formulas) is counted and skipped, and
the user is told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from apps.grid.store import Column, GridStore
from crm_lib.services import CellEdit

#: Longest text accepted for one pasted cell (the service's own limits apply after).
MAX_CELL_TEXT = 100_000


@dataclass
class PastePlan:
    """The cell edits of a paste, and what was left out and why."""

    edits: list[CellEdit] = field(default_factory=list)
    read_only: dict[str, int] = field(default_factory=dict)  # column title -> cells skipped
    outside: int = 0  # cells that fell below the last row or right of the last column
    gone: int = 0  # cells of rows no longer on the page

    def skipped_text(self) -> str:
        parts = [
            f"{count:,} in {title} (it cannot be edited)" for title, count in self.read_only.items()
        ]
        if self.outside:
            parts.append(f"{self.outside:,} beyond the edge of the page")
        if self.gone:
            parts.append(f"{self.gone:,} on rows no longer shown")
        return "; ".join(parts)


def pasted_value(column: Column, field_type: str | None, text: str) -> Any:
    """A pasted cell's text as the value its field parses: numbers, dates, lists and checks
    are parsed by the service; this only undoes how the grid shows some of them (a date copied
    from the grid is its epoch milliseconds, a percent shows as 15 for 15%, an owner by name)."""
    text = text.strip()
    if not text:
        return None
    if field_type == "date" and text.isdigit() and len(text) >= 10:
        return column.kind.from_cell(int(text))
    if field_type == "percent":
        return text if text.endswith("%") else f"{text}%"
    if field_type == "user":
        found = column.kind.from_cell(text)
        return found if found is not None else text  # not on the team: the service says so
    return text


def paste_plan(store: GridStore, cells: Sequence[Mapping[str, Any]], outside: int) -> PastePlan:
    """The edits of a pasted range (``cells``: id, version, field, position, text)."""
    plan = PastePlan(outside=int(outside))
    columns = {c.key: c for c in store.columns}
    rows = {row["id"]: (position, row) for position, row in enumerate(store.rows)}
    for cell in cells:
        column = columns.get(str(cell.get("field")))
        found = rows.get(cell.get("id"))
        if column is None or found is None:
            plan.gone += 1
            continue
        if column.kind.editor is None or column.pipeline_fund_id is not None:
            # pipeline cells are edited one at a time (each may flag, move or close an
            # opportunity, and reaching Committed asks first)
            plan.read_only[column.title] = plan.read_only.get(column.title, 0) + 1
            continue
        position, row = found
        text = str(cell.get("text") or "")[:MAX_CELL_TEXT]
        spec = store.fields.get(column.field_key or "")
        value = pasted_value(column, spec.type if spec is not None else None, text)
        plan.edits.append(_edit(column, row, position, value))
    return plan


def kept_edits(store: GridStore, kept: Sequence[Mapping[str, Any]]) -> list[CellEdit]:
    """Edits kept in the browser (id, version, field, value) as cell edits at the versions they
    were made on; edits of columns that no longer exist are dropped."""
    columns = {c.key: c for c in store.columns}
    edits = []
    for item in kept:
        column = columns.get(str(item.get("field")))
        investor_id = item.get("id")
        if column is None or column.kind.editor is None or not isinstance(investor_id, int):
            continue
        if column.pipeline_fund_id is not None:
            continue  # not replayed: an opportunity's change is made while it can be seen
        value = column.kind.from_cell(item.get("value"))
        version = item.get("version")
        if column.fund_id is not None:
            version = None  # the commitment's version is not kept; the service checks it
        version = version if isinstance(version, int) else None
        label = f"{column.title} of investor {investor_id}"
        edits.append(CellEdit(investor_id, column.key, value, version, label))
    return edits


def _edit(column: Column, row: Mapping[str, Any], position: int, value: Any) -> CellEdit:
    label = f"row {position + 1}, {row.get('name') or 'unnamed'}"
    if column.fund_id is not None:
        commitment = (row.get("commitments") or {}).get(column.key)
        version = commitment["version"] if commitment else None
        return CellEdit(row["id"], column.key, value, version, label)
    return CellEdit(row["id"], column.key, value, int(row["version"]), label)
