"""Funds (Fund I, II, III...): vintage, target size and how much has been committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.limits import check_text
from crm_lib.storage.reads import LIVE, name_taken, query_dicts, query_value
from crm_lib.storage.writes import write

FUNDS = "fundraising_funds"
STATUSES = ("planned", "raising", "closed")
FUND_FIELDS = {
    "name": "text",
    "vintage_year": "number",
    "target_size": "currency",
    "currency": "text",
    "status": "text",
    "first_close_on": "date",
    "final_close_on": "date",
    "notes": "long_text",
}


def _parse_fund(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FUND_FIELDS:
            raise ValidationError(
                f"Unknown fund field {key!r}; known: {', '.join(FUND_FIELDS)}", field=key
            )
        try:
            stored[key] = field_type(FUND_FIELDS[key]).parse(value, {})
        except FieldValueError as exc:
            raise ValidationError(f"{key}: {exc}", field=key) from None
    if (creating or "name" in stored) and not stored.get("name"):
        raise ValidationError("A fund needs a name", field="name")
    if stored.get("name"):
        check_text(stored["name"], "fund_name", field="name", label="Fund name")
    year = stored.get("vintage_year")
    if year is not None and (not isinstance(year, int) or not 1900 <= year <= 2200):
        raise ValidationError(
            f"Vintage year must be a year like 2024, not {year}", field="vintage_year"
        )
    if (stored.get("target_size") or 0) < 0:
        raise ValidationError("Target size cannot be negative", field="target_size")
    if "status" in stored and stored["status"] not in STATUSES:
        raise ValidationError(f"Fund status must be one of {', '.join(STATUSES)}", field="status")
    if "currency" in stored:
        stored["currency"] = (stored["currency"] or "USD").upper()
    if "notes" in stored and stored["notes"] is None:
        stored["notes"] = ""
    return stored


def _require_unique_name(ctx: Context, name: str, except_id: int | None = None) -> None:
    if name_taken(ctx.db, FUNDS, name, except_id) is not None:
        raise ValidationError(f"A fund named {name!r} already exists", field="name")


def create_fund(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add a fund: ``{"name": "Fund III", "vintage_year": 2024, "target_size": 300e6}``."""
    require(ctx, "manage_funds")
    stored = _parse_fund(values, creating=True)
    with write(ctx) as tx:
        _require_unique_name(ctx, stored["name"])
        fund_id = tx.insert(FUNDS, stored)
    return get_fund(ctx, fund_id)


def update_fund(
    ctx: Context, fund_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change a fund's details."""
    require(ctx, "manage_funds")
    stored = _parse_fund(changes, creating=False)
    with write(ctx) as tx:
        if "name" in stored:
            _require_unique_name(ctx, stored["name"], except_id=fund_id)
        tx.update(FUNDS, fund_id, stored, expected_version=expected_version)
    return get_fund(ctx, fund_id)


def archive_fund(ctx: Context, fund_id: int, *, expected_version: int) -> dict[str, Any]:
    """Archive a fund that has no live commitments (remove those first, so no total moves)."""
    require(ctx, "manage_funds")
    with write(ctx) as tx:
        live = query_value(
            ctx.db,
            f"SELECT count(*) FROM fundraising_commitments WHERE fund_id = ? AND {LIVE}",
            [fund_id],
        )
        if live:
            raise ValidationError(
                f"Fund {fund_id} still has {live} live commitments; remove them before archiving"
            )
        return tx.archive(FUNDS, fund_id, expected_version=expected_version)


_FUND_SUMMARY = (
    "SELECT f.*,"
    " COALESCE(SUM(c.amount), 0) AS committed,"
    " COUNT(c.id) AS commitment_count"
    f" FROM {FUNDS} f"
    " LEFT JOIN (SELECT c.* FROM fundraising_commitments c"
    "   JOIN fundraising_investors i ON i.id = c.investor_id"
    "   WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL) c ON c.fund_id = f.id"
    " WHERE f.deleted_at IS NULL {extra} GROUP BY f.id ORDER BY f.vintage_year, f.id"
)


def get_fund(ctx: Context, fund_id: int) -> dict[str, Any]:
    """A live fund with its committed total and number of commitments."""
    rows = query_dicts(ctx.db, _FUND_SUMMARY.format(extra="AND f.id = ?"), [fund_id])
    if not rows:
        raise NotFound("fund", fund_id)
    return rows[0]


def list_funds(ctx: Context) -> list[dict[str, Any]]:
    """Live funds by vintage, each with ``committed`` (live commitments of live investors)."""
    return query_dicts(ctx.db, _FUND_SUMMARY.format(extra=""))


def fund_columns(ctx: Context) -> list[dict[str, Any]]:
    """Live funds by vintage: id, name, currency, status (what the grid's fund columns need,
    without summing every commitment as :func:`list_funds` does)."""
    return query_dicts(
        ctx.db,
        "SELECT id, name, currency, vintage_year, status FROM fundraising_funds"
        " WHERE deleted_at IS NULL ORDER BY vintage_year, id",
    )


def commitments_matrix(ctx: Context, *, page: int = 1, page_size: int = 100) -> dict[str, Any]:
    """Investors by funds: one row per investor with a live commitment, one amount per fund
    (None where there is none), largest total first, a page at a time; plus each fund's total
    against its target. Fund ids become result columns (``fund_<id>``): integers from the
    database, never input, so the pivot's SQL cannot be steered by a caller.
    """
    if page < 1 or not 1 <= page_size <= 1000:
        raise ValidationError("Page must be >= 1 and page size between 1 and 1000")
    funds = list_funds(ctx)
    pivot = "".join(
        f", sum(CASE WHEN c.fund_id = {int(f['id'])} THEN c.amount END) AS fund_{int(f['id'])}"
        for f in funds
    )
    live = (
        " FROM fundraising_commitments c JOIN fundraising_investors i ON i.id = c.investor_id"
        " JOIN fundraising_funds f ON f.id = c.fund_id"
        " WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
    )
    total = int(query_value(ctx.db, "SELECT count(DISTINCT c.investor_id)" + live) or 0)
    rows = query_dicts(
        ctx.db,
        f"SELECT i.id AS investor_id, i.name AS investor, sum(c.amount) AS total{pivot}"
        + live
        + " GROUP BY i.id ORDER BY total DESC, i.id LIMIT ? OFFSET ?",
        [page_size, (page - 1) * page_size],
    )
    summary = [
        {
            "fund_id": f["id"],
            "fund": f["name"],
            "committed": f["committed"],
            "target_size": f["target_size"],
            "progress": (f["committed"] / f["target_size"]) if f["target_size"] else None,
        }
        for f in funds
    ]
    return {"funds": summary, "rows": rows, "total": total, "page": page, "page_size": page_size}
