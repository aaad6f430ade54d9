"""What the pipeline page and home read beside the board: a fund's forecast by expected close
month, its funnel with the conversion between stages, the investors going cold, and the
investors of a saved view (the board's "view" filter).

All reads: open opportunities of live investors and funds, as :mod:`crm_lib.services.pipeline`
keeps them. The funnel counts each opportunity at the furthest stage it ever reached (its audit
log's stage changes and where it is now), so a lost opportunity still counts for the stages it
passed through; one created straight into a stage counts for the stages before it too (it was
qualified past them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.services.investors import investor_order
from crm_lib.services.pipeline import (
    COLD_DAYS,
    OPPORTUNITIES,
    STAGES,
    check_cold_days,
    narrowed,
    pipeline_summary,
)
from crm_lib.services.views import get_view
from crm_lib.storage.reads import query_dicts

#: Going-cold rows listed at most (home shows the oldest touches first).
COLD_LIMIT = 50
NO_CLOSE_DATE = "No expected close"
_LIVE_INVESTOR = (
    "o.investor_id NOT IN (SELECT id FROM fundraising_investors WHERE deleted_at IS NOT NULL)"
)


def view_investor_ids(ctx: Context, view_id: int) -> list[int]:
    """The ids of the investors a saved view shows (its list and filters), for the board's
    "view" filter."""
    view = get_view(ctx, view_id)
    return [
        int(i)
        for i in investor_order(
            ctx,
            list_membership=view.get("list_membership") or "all",
            filter_tree=view.get("filters"),
        )
    ]


def pipeline_forecast(
    ctx: Context,
    fund_id: int,
    *,
    owner_id: int | None = None,
    investor_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Open opportunities of a fund by expected close month (``YYYY-MM``, earliest first; those
    without a date last): count, expected and weighted (expected times probability) totals."""
    pipeline_summary(ctx, fund_id)  # the permission, and NotFound for a gone fund
    narrow, values = narrowed(owner_id, investor_ids)
    rows = query_dicts(
        ctx.db,
        "SELECT substr(o.expected_close, 1, 7) AS month, count(*) AS count,"
        " coalesce(sum(o.expected_amount), 0) AS expected,"
        " coalesce(sum(o.expected_amount * coalesce(o.probability, s.probability)), 0)"
        " AS weighted"
        f" FROM {OPPORTUNITIES} o JOIN {STAGES} s ON s.id = o.stage_id"
        f" WHERE o.fund_id = ? AND o.status = 'open' AND o.deleted_at IS NULL AND {_LIVE_INVESTOR}"
        f"{narrow} GROUP BY month ORDER BY month IS NULL, month",
        [fund_id, *values],
    )
    for row in rows:
        row["month"] = row["month"] or NO_CLOSE_DATE
    return rows


def pipeline_funnel(
    ctx: Context,
    fund_id: int,
    *,
    owner_id: int | None = None,
    investor_ids: Sequence[int] | None = None,
) -> list[dict[str, Any]]:
    """Per stage before Lost, in board order: how many of the fund's opportunities reached it
    (``reached``) and what share of those that reached the stage before did (``conversion``,
    None for the first stage or when none reached the one before)."""
    summary = pipeline_summary(ctx, fund_id)
    narrow, values = narrowed(owner_id, investor_ids)
    # the fund's opportunities read once (MATERIALIZED: the view's ids are parsed once), each
    # at the furthest stage it visited; position -1 carries their count
    reached = query_dicts(
        ctx.db,
        "WITH fund_opps AS MATERIALIZED (SELECT o.id, o.stage_id FROM"
        f" {OPPORTUNITIES} o WHERE o.fund_id = ? AND o.deleted_at IS NULL AND {_LIVE_INVESTOR}"
        f"{narrow}),"
        " visited AS ("
        "  SELECT id, stage_id FROM fund_opps"
        "  UNION ALL SELECT a.entity_id, CAST(a.old_value AS INTEGER) FROM audit_log a"
        "   WHERE a.entity = ? AND a.field = 'stage_id'"
        "   AND a.entity_id IN (SELECT id FROM fund_opps)"
        "  UNION ALL SELECT a.entity_id, CAST(a.new_value AS INTEGER) FROM audit_log a"
        "   WHERE a.entity = ? AND a.field = 'stage_id'"
        "   AND a.entity_id IN (SELECT id FROM fund_opps)),"
        " furthest AS (SELECT v.id, max(s.position) AS position FROM visited v"
        f"  JOIN {STAGES} s ON s.id = v.stage_id AND s.kind != 'lost' GROUP BY v.id)"
        " SELECT position, count(*) AS count FROM furthest GROUP BY position"
        " UNION ALL SELECT -1, count(*) FROM fund_opps",
        [fund_id, *values, OPPORTUNITIES, OPPORTUNITIES],
    )
    # a lost opportunity with no recorded moves reached the first stage at least
    counted = {row["position"]: row["count"] for row in reached}
    total = counted.pop(-1)
    stages = [s for s in summary["stages"] if s["kind"] != "lost"]
    unplaced = total - sum(counted.values())
    funnel: list[dict[str, Any]] = []
    for index, stage in enumerate(stages):
        at_or_past = sum(n for pos, n in counted.items() if pos >= stage["position"])
        if index == 0:
            at_or_past += unplaced
        before = funnel[-1]["reached"] if funnel else None
        funnel.append(
            {
                "stage_id": stage["id"],
                "name": stage["name"],
                "kind": stage["kind"],
                "reached": at_or_past,
                "conversion": at_or_past / before if before else None,
            }
        )
    return funnel


def going_cold(
    ctx: Context,
    *,
    days: int = COLD_DAYS,
    owner_id: int | None = None,
    limit: int = COLD_LIMIT,
) -> dict[str, Any]:
    """Investors with an open opportunity, or a commitment, and no two-way email touch in
    ``days`` (no inbound and outbound both since then), oldest touch first: ``rows`` (id, name,
    owner, ``reason``, ``last_touch_at``) up to ``limit``, and ``total``. ``owner_id`` keeps
    those the member owns (the opportunity's owner, else the investor's)."""
    require(ctx, "use_grid")
    check_cold_days(days)
    cutoff = timestamp(ctx.clock.now() - timedelta(days=days))
    owner = ""
    values: list[Any] = [cutoff, cutoff]
    if owner_id is not None:
        owner = " AND coalesce(c.opportunity_owner, i.owner_id) = ?"
        values.append(owner_id)
    base = (
        "WITH candidates AS ("
        "  SELECT o.investor_id AS id, min(o.owner_id) AS opportunity_owner,"
        "   group_concat(f.name || ' · ' || s.name, '; ') AS reason"
        f"  FROM {OPPORTUNITIES} o JOIN fundraising_funds f ON f.id = o.fund_id"
        f"  JOIN {STAGES} s ON s.id = o.stage_id"
        "  WHERE o.status = 'open' AND o.deleted_at IS NULL AND f.deleted_at IS NULL"
        "  GROUP BY o.investor_id"
        "  UNION ALL SELECT id, NULL, 'Committed' FROM fundraising_investors"
        "  WHERE total_invested > 0 AND deleted_at IS NULL),"
        " merged AS (SELECT id, min(opportunity_owner) AS opportunity_owner,"
        "  group_concat(reason, '; ') AS reason FROM candidates GROUP BY id)"
        " SELECT i.id, i.name, c.reason,"
        " coalesce(nullif(u.name, ''), u.email) AS owner_name,"
        " max(coalesce(i.email_last_inbound_at, ''), coalesce(i.email_last_outbound_at, ''))"
        " AS last_touch_at"
        " FROM merged c JOIN fundraising_investors i ON i.id = c.id"
        " LEFT JOIN users u ON u.id = coalesce(c.opportunity_owner, i.owner_id)"
        " WHERE i.deleted_at IS NULL"
        " AND NOT (coalesce(i.email_last_inbound_at, '') >= ?"
        " AND coalesce(i.email_last_outbound_at, '') >= ?)"
        f"{owner}"
    )
    total = query_dicts(ctx.db, f"SELECT count(*) AS n FROM ({base})", values)[0]["n"]
    rows = query_dicts(
        ctx.db, base + " ORDER BY last_touch_at, lower(i.name), i.id LIMIT ?", [*values, limit]
    )
    for row in rows:
        row["last_touch_at"] = row["last_touch_at"] or None
    return {"rows": rows, "total": total, "days": days}
