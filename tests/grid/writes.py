"""Write helpers shared by the tests that make random changes and compare remembered state
(ordered ids, footer arrays) with SQLite."""

from __future__ import annotations

from crm_lib import services
from crm_lib.context import Context


def investor_ids(ctx: Context) -> tuple[list[int], list[int]]:
    """The live investors' ids and the archived ones'."""
    rows = ctx.db.execute("SELECT id, deleted_at IS NULL FROM fundraising_investors").fetchall()
    return [i for i, live in rows if live], [i for i, live in rows if not live]


def restore(ctx: Context, investor_id: int) -> None:
    """Restore an archived investor with the version just read."""
    archived = services.get_investor(ctx, investor_id, include_archived=True)["investor"]
    services.restore_investor(ctx, investor_id, expected_version=archived["version"])


def live_commitment(ctx: Context, investor_id: int, fund_id: int) -> tuple[int, int] | None:
    """The (id, version) of the investor's live commitment to the fund, if any."""
    return ctx.db.execute(
        "SELECT id, version FROM fundraising_commitments WHERE investor_id = ?"
        " AND fund_id = ? AND deleted_at IS NULL",
        (investor_id, fund_id),
    ).fetchone()


def commit(ctx: Context, investor_id: int, fund_id: int, amount: float) -> None:
    """Set the investor's commitment to the fund (creating it, or changing the one there)."""
    seen = live_commitment(ctx, investor_id, fund_id)
    services.set_commitment(
        ctx, investor_id, fund_id, amount, expected_version=seen[1] if seen else None
    )
