"""Commitments: how much an investor puts into a fund (one live commitment per investor and fund).

Every change recomputes the investor's ``total_invested`` in the same transaction.
"""

from __future__ import annotations

from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, parse_currency, parse_date
from crm_lib.grid.rollups import refresh_total_invested
from crm_lib.services.investors import require_live_investor
from crm_lib.services.pipeline import win_on_commitment
from crm_lib.storage.reads import LIVE, query_dicts, query_value
from crm_lib.storage.writes import write

COMMITMENTS = "fundraising_commitments"
STATUSES = ("soft_circled", "committed", "closed")


def parse_commitment(
    amount: Any, status: str, committed_on: Any, *, row: int | None = None
) -> dict[str, Any]:
    """Validate a commitment's values; raises :class:`ValidationError` naming the field."""
    where = f"Row {row}, " if row is not None else ""
    try:
        value = parse_currency(amount, {})
        day = parse_date(committed_on, {})
    except FieldValueError as exc:
        raise ValidationError(f"{where}Commitment: {exc}", field="amount", row=row) from None
    if value is None:
        raise ValidationError(f"{where}A commitment needs an amount", field="amount", row=row)
    if value < 0:
        raise ValidationError(
            f"{where}A commitment cannot be negative ({value:,.2f})", field="amount", row=row
        )
    if status not in STATUSES:
        raise ValidationError(
            f"{where}Commitment status must be one of {', '.join(STATUSES)}, not {status!r}",
            field="status",
            row=row,
        )
    return {"amount": value, "status": status, "committed_on": day}


def _live_fund(ctx: Context, fund_id: int) -> None:
    row = ctx.db.execute(
        f"SELECT 1 FROM fundraising_funds WHERE id = ? AND {LIVE}", [fund_id]
    ).fetchone()
    if row is None:
        raise NotFound("fund", fund_id)


def set_commitment(
    ctx: Context,
    investor_id: int,
    fund_id: int,
    amount: Any,
    *,
    status: str = "committed",
    committed_on: Any = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Create or change the investor's commitment to a fund.

    ``expected_version`` is the version of the commitment the caller saw, or ``None`` if they saw
    none: if one was created meanwhile, that is a conflict, not a silent overwrite.
    """
    values = parse_commitment(amount, status, committed_on)
    with write(ctx) as tx:
        require_live_investor(ctx, investor_id)
        _live_fund(ctx, fund_id)
        existing = ctx.db.execute(
            f"SELECT id, version, updated_at, updated_by FROM {COMMITMENTS}"
            f" WHERE investor_id = ? AND fund_id = ? AND {LIVE}",
            [investor_id, fund_id],
        ).fetchone()
        if existing is None:
            if expected_version is not None:
                raise NotFound("commitment", f"of investor {investor_id} to fund {fund_id}")
            commitment_id = tx.insert(
                COMMITMENTS, {**values, "investor_id": investor_id, "fund_id": fund_id}
            )
        else:
            commitment_id, version, updated_at, updated_by = existing
            if expected_version is None:
                raise ConflictError(
                    "Commitment",
                    commitment_id,
                    expected_version=None,
                    current_version=version,
                    updated_at=updated_at,
                    updated_by=updated_by,
                )
            tx.update(COMMITMENTS, commitment_id, values, expected_version=expected_version)
        refresh_total_invested(tx, investor_id)
        win_on_commitment(ctx, investor_id, fund_id, values.get("amount"), values["status"])
    return get_commitment(ctx, commitment_id)


def remove_commitment(ctx: Context, commitment_id: int, *, expected_version: int) -> dict[str, Any]:
    """Archive a commitment; the investor's total drops accordingly."""
    with write(ctx) as tx:
        row = tx.archive(COMMITMENTS, commitment_id, expected_version=expected_version)
        refresh_total_invested(tx, row["investor_id"])
    return row


def list_commitments(
    ctx: Context,
    *,
    fund_id: int | None = None,
    investor_id: int | None = None,
    page: int = 1,
    page_size: int = 100,
) -> dict[str, Any]:
    """Live commitments of live investors, optionally of one fund and/or one investor, largest
    first, a page at a time: ``{"rows": [...], "total": n, "page": p, "page_size": s}``."""
    if page < 1 or not 1 <= page_size <= 1000:
        raise ValidationError("Page must be >= 1 and page size between 1 and 1000")
    where = ["c.deleted_at IS NULL", "i.deleted_at IS NULL"]
    params: list[Any] = []
    for column, value in (("c.fund_id", fund_id), ("c.investor_id", investor_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    joined = (
        f" FROM {COMMITMENTS} c JOIN fundraising_investors i ON i.id = c.investor_id"
        " JOIN fundraising_funds f ON f.id = c.fund_id WHERE " + " AND ".join(where)
    )
    total = int(query_value(ctx.db, "SELECT count(*)" + joined, params))
    rows = query_dicts(
        ctx.db,
        "SELECT c.*, f.name AS fund_name, i.name AS investor_name"
        + joined
        + " ORDER BY c.amount DESC, c.id LIMIT ? OFFSET ?",
        [*params, page_size, (page - 1) * page_size],
    )
    return {"rows": rows, "total": total, "page": page, "page_size": page_size}


def restore_commitment(
    ctx: Context, commitment_id: int, *, expected_version: int
) -> dict[str, Any]:
    """Bring an archived commitment back, unless the investor has another live one to that fund."""
    with write(ctx) as tx:
        row = tx.fetch(COMMITMENTS, commitment_id)
        require_live_investor(ctx, row["investor_id"])
        _live_fund(ctx, row["fund_id"])
        clash = query_value(
            ctx.db,
            f"SELECT id FROM {COMMITMENTS} WHERE investor_id = ? AND fund_id = ? AND {LIVE}",
            [row["investor_id"], row["fund_id"]],
        )
        if clash is not None:
            raise ValidationError(
                f"Investor {row['investor_id']} already has commitment {clash} to this fund;"
                " change that one instead"
            )
        tx.restore(COMMITMENTS, commitment_id, expected_version=expected_version)
        refresh_total_invested(tx, row["investor_id"])
    return get_commitment(ctx, commitment_id)


def get_commitment(ctx: Context, commitment_id: int) -> dict[str, Any]:
    """A live commitment with its fund's name."""
    rows = query_dicts(
        ctx.db,
        f"SELECT c.*, f.name AS fund_name FROM {COMMITMENTS} c"
        " JOIN fundraising_funds f ON f.id = c.fund_id WHERE c.id = ? AND c.deleted_at IS NULL",
        [commitment_id],
    )
    if not rows:
        raise NotFound("commitment", commitment_id)
    return rows[0]
