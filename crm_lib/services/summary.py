"""Counts and totals across the grid's relations: by fund, by list, by investor type.

One pass of SQL aggregates per grouping over live rows only (an archived investor's commitments
do not count), for dashboards, the API and a quick sanity check after an import.

``committed`` is every live commitment; ``committed_excluding_graveyard`` leaves out investors on
the graveyard list (the total the team's sheet shows, and the home page's "Total committed"), and
``committed_graveyard`` is the part left out, so the two add up to ``committed``.

The home page's figures live here too: each fund's progress against its target
(:func:`fund_progress`), investors per list (:func:`list_breakdown`), and what needs the team's
attention (:func:`attention`), each of which the grid can open as a filtered view
(:func:`grid_preset`), so a count and the rows behind it always agree.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.grid.fields import FieldSpec, load_fields
from crm_lib.services.investors import count_by_list
from crm_lib.services.views import view_page
from crm_lib.storage.reads import query_dicts, query_value, while_grid_unchanged

#: A fund's stage as people name it.
FUND_STATUS_LABELS = {"planned": "Planned", "raising": "Raising", "closed": "Closed"}
#: The lists as people name them (the stored keys are the grid's and the API's).
LIST_LABELS = {
    "main": "Main",
    "follow_up": "Follow-up",
    "graveyard": "Graveyard",
    "longshot": "Longshot",
}

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
    return {
        "totals": totals,
        "by_fund": _by_fund(ctx),
        "by_list": _by_list(ctx),
        "by_type": query_dicts(
            ctx.db,
            "SELECT COALESCE(type, '') AS type, count(*) AS investors,"
            " COALESCE(sum(total_invested), 0) AS total_invested"
            " FROM fundraising_investors WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 3 DESC, 1",
        ),
    }


def _by_fund(ctx: Context) -> list[dict[str, Any]]:
    return query_dicts(
        ctx.db,
        "SELECT f.id AS fund_id, f.name AS fund, f.vintage_year, f.target_size,"
        " count(c.id) AS commitments, COALESCE(sum(c.amount), 0) AS committed,"
        " COALESCE(sum(CASE WHEN c.status = 'soft_circled' THEN c.amount END), 0) AS soft_circled,"
        " COALESCE(sum(CASE WHEN c.status = 'committed' THEN c.amount END), 0) AS hard_committed,"
        " COALESCE(sum(CASE WHEN c.status = 'closed' THEN c.amount END), 0) AS closed"
        f" FROM fundraising_funds f LEFT JOIN ({_LIVE_COMMITMENTS}) c ON c.fund_id = f.id"
        " WHERE f.deleted_at IS NULL GROUP BY f.id ORDER BY f.vintage_year, f.id",
    )


def _by_list(ctx: Context) -> list[dict[str, Any]]:
    return query_dicts(
        ctx.db,
        "SELECT list_membership AS list, count(*) AS investors,"
        " COALESCE(sum(total_invested), 0) AS total_invested"
        " FROM fundraising_investors WHERE deleted_at IS NULL GROUP BY 1 ORDER BY 1",
    )


def _commitment_totals(ctx: Context) -> list[dict[str, Any]]:
    """Live commitments of live investors summed per (fund, list, status): one pass over the
    commitments that the home page's fund and list figures both read (about 40 ms at 100,000
    investors), kept until the grid's data next changes."""
    return while_grid_unchanged(
        ctx.db,
        "commitment_totals",
        lambda: query_dicts(
            ctx.db,
            "SELECT fund_id, list_membership AS list, status, count(*) AS commitments,"
            f" total(amount) AS amount FROM ({_LIVE_COMMITMENTS}) GROUP BY 1, 2, 3",
        ),
    )


def fund_progress(ctx: Context) -> list[dict[str, Any]]:
    """Each live fund, oldest vintage first, against its target: ``committed`` (live
    commitments of live investors, of any status), its ``soft_circled`` part, ``commitments``
    (how many LPs), ``target_size`` (None when the fund has none), ``progress`` (committed /
    target, None without a target) and ``status_label``."""
    require(ctx, "use_grid")
    funds = query_dicts(
        ctx.db,
        "SELECT id AS fund_id, name AS fund, vintage_year, target_size, currency, status"
        " FROM fundraising_funds WHERE deleted_at IS NULL ORDER BY vintage_year, id",
    )
    totals = _commitment_totals(ctx)
    for fund in funds:
        mine = [t for t in totals if t["fund_id"] == fund["fund_id"]]
        committed = sum(t["amount"] for t in mine)
        target = fund["target_size"]
        fund.update(
            commitments=sum(t["commitments"] for t in mine),
            committed=committed,
            soft_circled=sum(t["amount"] for t in mine if t["status"] == "soft_circled"),
            progress=committed / target if target else None,
            status_label=FUND_STATUS_LABELS.get(fund["status"], fund["status"]),
        )
    return funds


def list_breakdown(ctx: Context) -> list[dict[str, Any]]:
    """Live investors per list, every list in the grid's order (empty ones too), with the live
    commitments of its investors: ``{"list", "label", "investors", "committed"}``."""
    require(ctx, "use_grid")
    counts = count_by_list(ctx)
    totals = _commitment_totals(ctx)
    return [
        {
            "list": key,
            "label": label,
            "investors": counts.get(key, 0),
            "committed": sum(t["amount"] for t in totals if t["list"] == key),
        }
        for key, label in LIST_LABELS.items()
    ]


# -- what needs attention ---------------------------------------------------------------------
#: An open conversation nobody has followed up for this long is going cold.
STALE_AFTER_DAYS = 30
#: The lists the team works from (the graveyard is closed, longshots are not being worked).
ACTIVE_LISTS = ("main", "follow_up")
#: Statuses of a conversation under way, and of one not started (as the demo and the default
#: status choices name them; a team that renames its statuses sees those items disappear
#: rather than wrong counts: only names still among the choices are used).
IN_CONVERSATION = ("Contacted", "Meeting", "Due diligence")
NOT_STARTED = ("Prospect",)


@dataclass(frozen=True)
class _Preset:
    """A question about investors that the grid can answer as a filtered view."""

    title: str
    detail: str
    sorts: tuple[tuple[str, str], ...]
    filters: Callable[[Mapping[str, FieldSpec], date], dict[str, Any] | None]


def _choices(fields: Mapping[str, FieldSpec], key: str, wanted: tuple[str, ...]) -> list[str]:
    spec = fields.get(key)
    choices = (spec.options.get("choices") or []) if spec is not None else []
    return [choice for choice in wanted if choice in choices]


def _active(*conditions: dict[str, Any]) -> dict[str, Any]:
    on_lists = {"field": "list_membership", "operator": "has_any_of", "value": list(ACTIVE_LISTS)}
    return {"op": "and", "conditions": [on_lists, *conditions]}


def _going_cold(fields: Mapping[str, FieldSpec], day: date) -> dict[str, Any] | None:
    statuses = _choices(fields, "status", IN_CONVERSATION)
    if not statuses or "last_contacted_at" not in fields:
        return None
    cutoff = (day - timedelta(days=STALE_AFTER_DAYS)).isoformat()
    return _active(
        {"field": "status", "operator": "has_any_of", "value": statuses},
        {
            "op": "or",
            "conditions": [
                {"field": "last_contacted_at", "operator": "empty"},
                {"field": "last_contacted_at", "operator": "before", "value": cutoff},
            ],
        },
    )


def _never_contacted(fields: Mapping[str, FieldSpec], day: date) -> dict[str, Any] | None:
    statuses = _choices(fields, "status", NOT_STARTED)
    if "last_contacted_at" not in fields or "status" not in fields:
        return None
    not_started: list[dict[str, Any]] = [{"field": "status", "operator": "empty"}]
    if statuses:
        not_started.append({"field": "status", "operator": "has_any_of", "value": statuses})
    return _active(
        {"op": "or", "conditions": not_started},
        {"field": "last_contacted_at", "operator": "empty"},
    )


def _no_owner(fields: Mapping[str, FieldSpec], day: date) -> dict[str, Any] | None:
    if "owner_id" not in fields:
        return None
    return _active({"field": "owner_id", "operator": "empty"})


PRESETS: dict[str, _Preset] = {
    "going_cold": _Preset(
        "Conversations going cold",
        f"Contacted, meeting or in due diligence, and not contacted in {STALE_AFTER_DAYS} days"
        " (or never)",
        (("last_contacted_at", "asc"), ("name", "asc")),
        _going_cold,
    ),
    "never_contacted": _Preset(
        "Prospects nobody has contacted",
        "No status or Prospect, and no contact date yet",
        (("name", "asc"),),
        _never_contacted,
    ),
    "no_owner": _Preset(
        "Investors without an owner",
        "Nobody on the team is responsible for them",
        (("name", "asc"),),
        _no_owner,
    ),
}


def grid_preset(ctx: Context, key: str) -> dict[str, Any] | None:
    """The view the grid opens for an attention item (``/grid?preset=going_cold``): an unsaved
    view with the item's filters, computed now (so "30 days" stays 30 days whenever a link is
    opened); None for a key that is not a preset or that the grid's fields cannot express."""
    require(ctx, "use_grid")
    preset = PRESETS.get(key)
    if preset is None:
        return None
    filters = preset.filters(load_fields(ctx.db), today(ctx.clock))
    if filters is None:
        return None
    return {
        "name": preset.title,
        "list_membership": "all",
        "filters": filters,
        "sorts": [{"field": field, "direction": way} for field, way in preset.sorts],
    }


_UNDATED = (
    "FROM fundraising_commitments c JOIN fundraising_investors i ON i.id = c.investor_id"
    " JOIN fundraising_funds f ON f.id = c.fund_id"
    " WHERE c.committed_on IS NULL"
    " AND c.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
)


def attention(ctx: Context, *, examples: int = 5) -> list[dict[str, Any]]:
    """What needs the team, most pressing first: ``{"key", "title", "detail", "count",
    "examples": [{"id", "name"}], "preset"}``, counts of zero included (the page decides what
    to show). ``preset`` names the grid view that lists them all (:func:`grid_preset`), None
    when the grid cannot filter on it (commitments without a date: the examples are those
    investors)."""
    require(ctx, "use_grid")
    day = today(ctx.clock)
    return copy.deepcopy(
        while_grid_unchanged(
            ctx.db, ("attention", day, examples), lambda: _attention(ctx, examples)
        )
    )


def _attention(ctx: Context, examples: int) -> list[dict[str, Any]]:
    items = []
    for key in PRESETS:
        view = grid_preset(ctx, key)
        if view is None:
            continue
        found = view_page(ctx, view, page=1, page_size=max(1, examples))
        items.append(
            {
                "key": key,
                "title": PRESETS[key].title,
                "detail": PRESETS[key].detail,
                "count": found.total,
                "examples": [{"id": r["id"], "name": r["name"]} for r in found.rows[:examples]],
                "preset": key,
            }
        )
    undated = int(query_value(ctx.db, f"SELECT count(*) {_UNDATED}") or 0)
    rows = query_dicts(
        ctx.db,
        f"SELECT DISTINCT i.id, i.name {_UNDATED} ORDER BY i.name COLLATE NOCASE, i.id LIMIT ?",
        [examples],
    )
    items.append(
        {
            "key": "undated_commitments",
            "title": "Commitments without a date",
            "detail": "The commitment is recorded but not when it was made",
            "count": undated,
            "examples": rows,
            "preset": None,
        }
    )
    return items
