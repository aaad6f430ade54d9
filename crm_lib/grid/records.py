"""Investor rows inside the write path, with their stored formula results kept current.

Every create and change of an investor goes through here (services, rollups, bulk imports), so a
formula result can never lag behind the values it reads: the recomputation happens in the same
transaction as the change, and only for the formulas the change affects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_lib.events import Change
from crm_lib.grid.fields import FieldSpec
from crm_lib.grid.formula_fields import grid_formulas
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import WriteTransaction

INVESTORS = "fundraising_investors"
#: Rows read per step when a whole formula column is recomputed (bounded memory at any size).
COLUMN_CHUNK = 20_000


def insert_investor(
    tx: WriteTransaction, fields: Mapping[str, FieldSpec], stored: Mapping[str, Any]
) -> int:
    """Insert a validated investor with every formula computed; returns its id."""
    formulas = grid_formulas(fields, tx.ctx.clock)
    values = dict(stored)
    if formulas.formula_keys:
        investor_id = tx.next_id(INVESTORS)
        row = {key: values.get(key) for key in fields}
        row.setdefault("total_invested", 0)
        row.update(id=investor_id, created_at=tx.now, updated_at=tx.now)
        values.update(
            formulas.record_values(row, [k for k in fields if k not in formulas.formula_keys])
        )
        return tx.insert(INVESTORS, values, row_id=investor_id)
    return tx.insert(INVESTORS, values)


def update_investor_row(
    tx: WriteTransaction,
    fields: Mapping[str, FieldSpec],
    investor_id: int,
    stored: Mapping[str, Any],
    *,
    expected_version: int | None,
) -> dict[str, Any]:
    """Change a live investor and the formulas that read the changed fields, in one UPDATE."""
    formulas = grid_formulas(fields, tx.ctx.clock)
    values = dict(stored)
    if formulas.affected_keys(values):
        current = tx.fetch(INVESTORS, investor_id)
        values.update(formulas.record_values({**current, **values}, list(values)))
    return tx.update(INVESTORS, investor_id, values, expected_version=expected_version)


def recompute_formula_columns(
    tx: WriteTransaction,
    fields: Mapping[str, FieldSpec],
    changed_keys: list[str],
    *,
    first_id: int | None = None,
    last_id: int | None = None,
) -> int:
    """Recompute the formula columns ``changed_keys`` affect, for all live rows (or an id range),
    a chunk of rows at a time. Results are derived data: stored without per-cell audit rows or
    version bumps (the formula's own change is audited on its field). Returns rows written."""
    formulas = grid_formulas(fields, tx.ctx.clock)
    targets = formulas.affected_keys(changed_keys)
    if not targets:
        return 0
    where, params = "deleted_at IS NULL", []
    if first_id is not None and last_id is not None:
        where, params = "id BETWEEN ? AND ?", [first_id, last_id]
    columns = ", ".join(quote(c) for c in ["id", "created_at", "updated_at", *fields])
    assignments = ", ".join(f"{quote(key)} = ?" for key in targets)
    written, after = 0, 0
    while True:
        cursor = tx.conn.execute(
            f"SELECT {columns} FROM {INVESTORS} WHERE {where} AND id > ? ORDER BY id LIMIT ?",
            [*params, after, COLUMN_CHUNK],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        if not rows:
            return written
        results = formulas.column_values(rows, changed_keys)
        tx.conn.executemany(
            f"UPDATE {INVESTORS} SET {assignments} WHERE id = ?",
            [[*(results[key][i] for key in targets), row["id"]] for i, row in enumerate(rows)],
        )
        written += len(rows)
        after = rows[-1]["id"]
        tx.changes.append(  # derived values changed: bump the grid state, tell open grids
            Change(
                INVESTORS,
                rows[0]["id"],
                "update",
                tuple(targets),
                0,
                tx.actor,
                tx.txn,
                last_entity_id=after,
            )
        )
