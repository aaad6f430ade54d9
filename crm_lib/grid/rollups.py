"""Rollups: values of an investor derived from its other rows, kept consistent on every write.

``total_invested`` is the sum of the investor's live commitments, rounded to cents. The service
layer calls :func:`refresh_total_invested` inside the same transaction as the commitment change, so
readers never see a commitment without its rollup.
"""

from __future__ import annotations

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
