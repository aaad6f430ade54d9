"""Counts and totals across the grid's relations: by fund, by list, by investor type.

One pass of SQL aggregates per grouping over live rows only (an archived investor's commitments
do not count), for dashboards, the API and a quick sanity check after an import.

``committed`` is every live commitment; ``committed_excluding_graveyard`` leaves out investors on
the graveyard list (the total the team's sheet shows, and the home page's "Total committed"), and
``committed_graveyard`` is the part left out, so the two add up to ``committed``.
"""

from __future__ import annotations

from typing import Any

from crm_lib.context import Context
from crm_lib.storage.reads import query_dicts

_LIVE_COMMITMENTS = (
    "SELECT c.*, i.list_membership FROM fundraising_commitments c"
    " JOIN fundraising_investors i ON i.id = c.investor_id"
    " WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL"
)


def relational_summary(ctx: Context) -> dict[str, Any]:
    """``{"totals": {...}, "by_fund": [...], "by_list": [...], "by_type": [...]}``."""
    totals = query_dicts(
        ctx.db,
        "SELECT"
        " (SELECT count(*) FROM fundraising_investors WHERE deleted_at IS NULL) AS investors,"
        " (SELECT count(*) FROM fundraising_contacts p JOIN fundraising_investors i"
        "    ON i.id = p.investor_id WHERE p.deleted_at IS NULL AND i.deleted_at IS NULL)"
        "    AS people,"
        " (SELECT count(*) FROM contacts WHERE deleted_at IS NULL) AS contacts,"
        " (SELECT count(*) FROM fundraising_funds WHERE deleted_at IS NULL) AS funds,"
        f" (SELECT count(*) FROM ({_LIVE_COMMITMENTS})) AS commitments,"
        f" (SELECT COALESCE(sum(amount), 0) FROM ({_LIVE_COMMITMENTS})) AS committed,"
        f" (SELECT COALESCE(sum(amount), 0) FROM ({_LIVE_COMMITMENTS})"
        "    WHERE list_membership IS NOT 'graveyard') AS committed_excluding_graveyard,"
        f" (SELECT COALESCE(sum(amount), 0) FROM ({_LIVE_COMMITMENTS})"
        "    WHERE list_membership IS 'graveyard') AS committed_graveyard",
    )[0]
    by_fund = query_dicts(
        ctx.db,
        "SELECT f.id AS fund_id, f.name AS fund, f.vintage_year, f.target_size,"
        " count(c.id) AS commitments, COALESCE(sum(c.amount), 0) AS committed,"
        " COALESCE(sum(CASE WHEN c.status = 'soft_circled' THEN c.amount END), 0) AS soft_circled,"
        " COALESCE(sum(CASE WHEN c.status = 'committed' THEN c.amount END), 0) AS hard_committed,"
        " COALESCE(sum(CASE WHEN c.status = 'closed' THEN c.amount END), 0) AS closed"
        f" FROM fundraising_funds f LEFT JOIN ({_LIVE_COMMITMENTS}) c ON c.fund_id = f.id"
        " WHERE f.deleted_at IS NULL GROUP BY f.id ORDER BY f.vintage_year, f.id",
    )
    by_list = query_dicts(
        ctx.db,
        "SELECT list_membership AS list, count(*) AS investors,"
        " COALESCE(sum(total_invested), 0) AS total_invested"
        " FROM fundraising_investors WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1",
    )
    by_type = query_dicts(
        ctx.db,
        "SELECT COALESCE(type, '') AS type, count(*) AS investors,"
        " COALESCE(sum(total_invested), 0) AS total_invested"
        " FROM fundraising_investors WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 3 DESC, 1",
    )
    return {"totals": totals, "by_fund": by_fund, "by_list": by_list, "by_type": by_type}
