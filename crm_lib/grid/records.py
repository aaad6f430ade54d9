"""Investor rows inside the write path, with their stored formula results kept current.

Every create and change of an investor goes through here (services, rollups, bulk imports), so a
formula result can never lag behind the values it reads: the recomputation happens in the same
transaction as the change, and only for the formulas the change affects.

All the formula evaluation of one write transaction (one request: an added formula field, an
import, a type change) is charged to one :class:`~crm_lib.formulas.limits.EvaluationBudget` of
``settings.formula_budget_s`` seconds. The per-record cap alone would let a formula that takes
40 ms a record hold the database's one writer for over an hour at 100,000 investors; past the
total, the change is refused with a :class:`~crm_lib.errors.FormulaError` that names the formula
and how far it got, and the transaction rolls back: nothing is half-written.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from crm_lib.errors import FormulaError
from crm_lib.events import Change
from crm_lib.formulas.limits import BudgetSpent, EvaluationBudget, current_request_budget
from crm_lib.grid.fields import FieldSpec
from crm_lib.grid.formula_fields import grid_formulas
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import WriteTransaction

INVESTORS = "fundraising_investors"
#: Most rows read per step when a whole formula column is recomputed (bounded memory at any size).
COLUMN_CHUNK = 20_000
#: Rows of the first step. A formula's cost is unknown until it runs, so steps start small and
#: grow (at most 4x a step) towards CHUNK_SECONDS of work: cheap formulas soon read COLUMN_CHUNK
#: rows a step, while a costly one keeps steps short, so the budget stops it promptly.
FIRST_CHUNK = 16
CHUNK_SECONDS = 0.25

_BUDGETS: weakref.WeakKeyDictionary[WriteTransaction, EvaluationBudget] = (
    weakref.WeakKeyDictionary()
)
_BUDGETS_LOCK = threading.Lock()


def evaluation_budget(tx: WriteTransaction) -> EvaluationBudget:
    """The budget this transaction's formula evaluation is charged to: the one the caller opened
    with :func:`~crm_lib.formulas.limits.request_budget` (a job, a test), else the transaction's
    own of ``settings.formula_budget_s`` seconds, shared by every service call nested in it."""
    budget = current_request_budget()
    if budget is not None:
        return budget
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get(tx)
        if budget is None:
            budget = _BUDGETS[tx] = EvaluationBudget(tx.ctx.settings.formula_budget_s)
    return budget


def _refusal(
    fields: Mapping[str, FieldSpec], spent: BudgetSpent, *, done: int, total: int | None
) -> FormulaError:
    """The error that refuses a change whose formulas ran out of budget: which formula, how far
    it got (``done`` of ``total`` rows), and what to do about it."""
    label = spent.formula or "a formula"
    key = next((k for k, s in fields.items() if s.label == spent.formula), None)
    progress = f"{done:,} of {total:,}" if total is not None else f"{done:,}"
    return FormulaError(
        f"Formulas took longer than the {spent.budget.seconds:g} s one change may use: "
        f"{{{label}}} was being computed and {progress} rows were done. Nothing was saved. "
        f"Simplify the formula of {{{label}}} (fewer REGEX and REPT calls, shorter texts, less "
        "nesting) or split it into several fields; an admin can raise CRM_FORMULA_BUDGET_S.",
        field=key,
    )


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
        inputs = [k for k in fields if k not in formulas.formula_keys]
        values.update(_record_results(tx, fields, lambda: formulas.record_values(row, inputs)))
        return tx.insert(INVESTORS, values, row_id=investor_id)
    return tx.insert(INVESTORS, values)


def _record_results(
    tx: WriteTransaction, fields: Mapping[str, FieldSpec], compute: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """One record's formula results, charged to the transaction's budget (which counts the
    records done, for the message if a later one runs out)."""
    budget = evaluation_budget(tx)
    try:
        with budget.charging():
            results = compute()
    except BudgetSpent as spent:
        raise _refusal(fields, spent, done=budget.records, total=None) from None
    budget.records += 1
    return results


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
        changed = {**current, **values}
        values.update(
            _record_results(tx, fields, lambda: formulas.record_values(changed, list(values)))
        )
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
    a chunk of rows at a time, within the transaction's evaluation budget (over it: a
    :class:`FormulaError` and nothing written). Results are derived data: stored without per-cell
    audit rows or version bumps (the formula's own change is audited on its field). Returns rows
    written."""
    formulas = grid_formulas(fields, tx.ctx.clock)
    targets = formulas.affected_keys(changed_keys)
    if not targets:
        return 0
    where, params = "deleted_at IS NULL", []
    if first_id is not None and last_id is not None:
        where, params = "id BETWEEN ? AND ?", [first_id, last_id]
    columns = ", ".join(quote(c) for c in ["id", "created_at", "updated_at", *fields])
    assignments = ", ".join(f"{quote(key)} = ?" for key in targets)
    budget = evaluation_budget(tx)
    written, after, chunk = 0, 0, FIRST_CHUNK
    while True:
        cursor = tx.conn.execute(
            f"SELECT {columns} FROM {INVESTORS} WHERE {where} AND id > ? ORDER BY id LIMIT ?",
            [*params, after, chunk],
        )
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
        if not rows:
            return written
        started = time.perf_counter()
        try:
            with budget.charging():
                results = formulas.column_values(rows, changed_keys)
        except BudgetSpent as spent:
            total = tx.conn.execute(f"SELECT count(*) FROM {INVESTORS} WHERE {where}", params)
            raise _refusal(fields, spent, done=written, total=total.fetchone()[0]) from None
        chunk = _next_chunk(chunk, len(rows), time.perf_counter() - started)
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


def _next_chunk(chunk: int, rows: int, seconds: float) -> int:
    """Rows for the next step: about CHUNK_SECONDS of evaluation at the rate just seen, growing
    at most 4x a step, between FIRST_CHUNK and COLUMN_CHUNK."""
    if rows < chunk:
        return chunk  # the last step: nothing follows
    target = int(CHUNK_SECONDS * rows / seconds) if seconds > 0 else COLUMN_CHUNK
    return max(FIRST_CHUNK, min(COLUMN_CHUNK, chunk * 4, target))
