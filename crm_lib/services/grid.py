"""What the web grid needs beyond plain investor pages: its columns, each page's people,
per-fund commitments and pipeline cells (:mod:`crm_lib.services.pipeline_grid`), and cell edits
of the columns that are not investor fields.

The grid shows one column per field, a "People" column, and one column per live fund (the
investor's commitment to it); this module assembles a page of all of them in three queries
(the view's page, then people and commitments of just those ids), so a page costs the same at
100 rows or 100,000.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import FieldSpec, load_fields
from crm_lib.grid.filters import operators_for
from crm_lib.services.commitments import remove_commitment, set_commitment
from crm_lib.services.funds import fund_columns
from crm_lib.services.investors import investors_by_id
from crm_lib.services.pipeline import list_stages
from crm_lib.services.pipeline_grid import pipeline_cells
from crm_lib.services.users import list_users
from crm_lib.services.views import view_page
from crm_lib.storage.reads import LIVE, query_dicts

#: Grid column key of a fund's commitments: ``fund:<id>``.
FUND_PREFIX = "fund:"
PEOPLE = "people"


@dataclass(frozen=True)
class GridColumns:
    """Everything needed to draw the grid's columns and its editors and filter menus."""

    fields: list[FieldSpec]
    funds: list[dict[str, Any]]
    users: list[dict[str, Any]]
    operators: dict[str, list[dict[str, str]]]  # field key -> [{name, label, value}]
    #: pipeline stages in board order (the "<fund> stage" columns' choices)
    stages: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class GridPage:
    """One page of the grid: investor rows with ``people`` (names) and ``fund:<id>`` amounts."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    total_invested: float
    funds: list[dict[str, Any]] = field(default_factory=list)
    #: keyset cursors of the pages after and before this one (see list_investors)
    next_cursor: str | None = None
    previous_cursor: str | None = None
    first: int = 0  # the position of the page's first row in the view (0-based)


def grid_columns(ctx: Context) -> GridColumns:
    """The grid's fields in order, live funds (one column each, and a stage and an expected
    column each for those not closed), team members (owner choices), the pipeline's stages and
    the filter operators each field offers."""
    fields = list(load_fields(ctx.db).values())
    return GridColumns(
        fields=fields,
        funds=fund_columns(ctx),
        users=[u for u in list_users(ctx) if u.get("is_active", 1)],
        stages=list_stages(ctx),
        operators={
            spec.key: [{"name": op.name, "label": op.label, "value": op.value} for op in ops]
            for spec in fields
            if (ops := operators_for(spec))
        },
    )


def fund_column(fund_id: int) -> str:
    return f"{FUND_PREFIX}{fund_id}"


def pipeline_fund(fund: Mapping[str, Any]) -> bool:
    """Whether the grid shows a fund's pipeline columns: every fund not closed."""
    return fund.get("status") != "closed"


def grid_page(
    ctx: Context,
    view: Mapping[str, Any],
    *,
    page: int = 1,
    page_size: int = 100,
    sorts: Sequence[Mapping[str, str]] | None = None,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    archived: bool = False,
    after: str | None = None,
    before: str | None = None,
) -> GridPage:
    """A page of a view (saved or being built) as the grid shows it: the view's list and filter
    tree, AND header ``conditions`` and ``search``, in ``sorts`` (else the view's) order; page
    ``page``, or the page after or before a keyset cursor (``after``, ``before``)."""
    result = view_page(
        ctx,
        view,
        page=page,
        page_size=page_size,
        sorts=sorts,
        conditions=conditions,
        search=search,
        archived=archived,
        after=after,
        before=before,
    )
    funds = fund_columns(ctx)
    rows = _with_grid_cells(ctx, result.rows, funds)
    return GridPage(
        rows=rows,
        total=result.total,
        page=result.page,
        page_size=result.page_size,
        total_invested=result.total_invested,
        funds=funds,
        next_cursor=result.next_cursor,
        previous_cursor=result.previous_cursor,
        first=result.first,
    )


def grid_rows(ctx: Context, ids: Sequence[int], *, archived: bool = False) -> list[dict[str, Any]]:
    """The rows ``ids`` as :func:`grid_page` shows them (people, commitments, pipeline cells),
    in that order, whatever view they are in: what an open page re-reads when others changed
    rows on it and nothing that decides the page's rows or order (see
    :mod:`crm_lib.grid.change_scope`). Rows gone since are left out."""
    return _with_grid_cells(ctx, investors_by_id(ctx, ids, archived=archived), fund_columns(ctx))


def _with_grid_cells(
    ctx: Context, rows: list[dict[str, Any]], funds: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Add to investor rows what the grid shows beside their fields, in three queries for the
    whole page: people's names, each fund's commitment, the pipeline columns."""
    ids = [row["id"] for row in rows]
    people: dict[int, list[str]] = {i: [] for i in ids}
    amounts: dict[int, dict[str, Any]] = {i: {} for i in ids}
    if ids:
        marks = ", ".join("?" for _ in ids)
        for person in query_dicts(
            ctx.db,
            "SELECT investor_id, full_name FROM fundraising_contacts"
            f" WHERE investor_id IN ({marks}) AND {LIVE}"
            " ORDER BY is_primary DESC, lower(full_name), id",
            ids,
        ):
            people[person["investor_id"]].append(person["full_name"])
        for commitment in query_dicts(
            ctx.db,
            "SELECT id, investor_id, fund_id, amount, version FROM fundraising_commitments"
            f" WHERE investor_id IN ({marks}) AND {LIVE}",
            ids,
        ):
            amounts[commitment["investor_id"]][fund_column(commitment["fund_id"])] = commitment
    pipeline = pipeline_cells(ctx, ids, [f["id"] for f in funds if pipeline_fund(f)])
    for row in rows:
        row.update(pipeline[row["id"]])
        row[PEOPLE] = people[row["id"]]
        row["commitments"] = amounts[row["id"]]
        for fund in funds:
            found = amounts[row["id"]].get(fund_column(fund["id"]))
            row[fund_column(fund["id"])] = found["amount"] if found else None
    return rows


def set_fund_cell(
    ctx: Context,
    investor_id: int,
    fund_id: int,
    amount: Any,
    *,
    commitment: Mapping[str, Any] | None,
) -> None:
    """A grid edit of a fund column: set the commitment's amount, create it, or (blank) remove
    it. ``commitment`` is the one the grid showed (id, version), or None; a commitment made or
    changed by someone else since is a conflict, as for any other cell."""
    blank = amount is None or (isinstance(amount, str) and not amount.strip())
    if blank:
        if commitment is None:
            return
        remove_commitment(ctx, commitment["id"], expected_version=commitment["version"])
        return
    if isinstance(amount, int | float) and amount < 0:
        raise ValidationError("A commitment cannot be negative", field=fund_column(fund_id))
    set_commitment(
        ctx,
        investor_id,
        fund_id,
        amount,
        expected_version=commitment["version"] if commitment else None,
    )
