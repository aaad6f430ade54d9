"""Rollups: values of an investor derived from its other rows, kept consistent on every write.

``total_invested`` is the sum of the investor's live commitments, rounded to cents. The service
layer calls :func:`refresh_total_invested` inside the same transaction as the commitment change, so
readers never see a commitment without its rollup. ``tasks__next_due`` ("Next task due") is
the earliest due date of the investor's open tasks, kept the same way by the tasks service.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_lib.events import Change
from crm_lib.grid.fields import load_fields
from crm_lib.grid.records import update_investor_row
from crm_lib.storage.writes import WriteTransaction

TOTAL_INVESTED_SQL = (
    "SELECT ROUND(COALESCE(SUM(amount), 0), 2) FROM fundraising_commitments"
    " WHERE investor_id = ? AND deleted_at IS NULL"
)


def refresh_total_invested(tx: WriteTransaction, investor_id: int) -> float:
    """Recompute and store the investor's total (audited like any other change)."""
    total = float(tx.conn.execute(TOTAL_INVESTED_SQL, (investor_id,)).fetchone()[0])
    update_investor_row(
        tx, load_fields(tx.ctx.db), investor_id, {"total_invested": total}, expected_version=None
    )
    return total


#: The grid's read-only "Next task due" field (migration 0015): the earliest due date of the
#: investor's open tasks; before today means a follow-up is overdue.
NEXT_TASK_DUE = "tasks__next_due"
NEXT_TASK_DUE_SQL = (
    "SELECT min(due_on) FROM tasks WHERE investor_id = ? AND status = 'open' AND deleted_at IS NULL"
)


def refresh_next_task_due(tx: WriteTransaction, investor_ids: Iterable[int | None]) -> None:
    """Recompute the investors' next task due, in the task's transaction. Written like the email
    signals (derived: no version bump, no audit row, which the task's own audit covers), and
    announced so open grids show it."""
    for investor_id in sorted({i for i in investor_ids if i is not None}):
        wanted = tx.conn.execute(NEXT_TASK_DUE_SQL, (investor_id,)).fetchone()[0]
        current = tx.conn.execute(
            f"SELECT {NEXT_TASK_DUE}, version FROM fundraising_investors WHERE id = ?",
            (investor_id,),
        ).fetchone()
        if current is None or current[0] == wanted:
            continue
        tx.conn.execute(
            f"UPDATE fundraising_investors SET {NEXT_TASK_DUE} = ? WHERE id = ?",
            (wanted, investor_id),
        )
        tx.changes.append(
            Change(
                "fundraising_investors",
                investor_id,
                "update",
                (NEXT_TASK_DUE,),
                current[1],
                tx.actor,
                tx.txn,
            )
        )
