"""The grid's side of the pipeline: per fund still raising, a "<fund> stage" column (the flag)
and a "<fund> expected" column, edited like any cell and written to the investor's opportunity
in one transaction with the version the grid showed.

* Setting a stage on an investor not in the fund's pipeline flags it: the opportunity is created
  (owner: the investor's Owner field; expected amount: the investor's commitment to the fund if
  the grid holds one, else blank) or, if the investor was in it before, reopened.
* Typing an expected amount flags it the same way, in the first stage.
* Changing either on a flagged investor changes the opportunity; a stage of kind "won"
  answers with the commitment it proposes (the page asks before writing it).
* Clearing the stage removes the flag: the opportunity is closed as lost with the reason
  :data:`UNFLAGGED` (shown on the board, where it can be edited), never deleted; choosing the
  lost stage does the same.

The board edits the same rows, so each side shows the other's change (both watch
``opportunities``), and an edit made on a stale copy is refused as a conflict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.services.pipeline import (
    OPPORTUNITIES,
    close_opportunity,
    flag_investor,
    list_stages,
    update_opportunity,
)
from crm_lib.storage.reads import query_dicts, query_value

STAGE_PREFIX = "stage:"
EXPECTED_PREFIX = "expected:"
#: The lost reason of a flag removed in the grid.
UNFLAGGED = "Removed from the pipeline in the grid"


def stage_column(fund_id: int) -> str:
    return f"{STAGE_PREFIX}{fund_id}"


def expected_column(fund_id: int) -> str:
    return f"{EXPECTED_PREFIX}{fund_id}"


def pipeline_cells(
    ctx: Context, investor_ids: Sequence[int], fund_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """Per investor, its ``stage:<fund>`` and ``expected:<fund>`` cells for the funds shown,
    and ``opportunities`` (``{fund_id: {id, version}}``, what an edit is checked against): the
    open opportunity, else the won one; a lost one shows as not flagged."""
    cells: dict[int, dict[str, Any]] = {i: {"opportunities": {}} for i in investor_ids}
    if not investor_ids or not fund_ids:
        return cells
    ids, funds = ", ".join("?" * len(investor_ids)), ", ".join("?" * len(fund_ids))
    for row in query_dicts(
        ctx.db,
        "SELECT o.id, o.investor_id, o.fund_id, o.expected_amount, o.version, o.status,"
        f" s.name AS stage_name FROM {OPPORTUNITIES} o"
        " JOIN pipeline_stages s ON s.id = o.stage_id"
        f" WHERE o.investor_id IN ({ids}) AND o.fund_id IN ({funds})"
        " AND o.deleted_at IS NULL AND o.status != 'lost'"
        " ORDER BY o.status = 'open', o.id",  # the open one last: it wins
        [*investor_ids, *fund_ids],
    ):
        cell = cells[row["investor_id"]]
        cell[stage_column(row["fund_id"])] = row["stage_name"]
        cell[expected_column(row["fund_id"])] = row["expected_amount"]
        cell["opportunities"][row["fund_id"]] = {"id": row["id"], "version": row["version"]}
    return cells


def set_pipeline_cell(
    ctx: Context,
    investor_id: int,
    column: str,
    value: Any,
    *,
    opportunity: Mapping[str, Any] | None,
) -> dict[str, Any] | None:
    """A grid edit of a ``stage:<fund>`` or ``expected:<fund>`` cell (see the module
    docstring). ``opportunity`` is the one the grid showed (id, version), or None. Returns the
    opportunity as saved (with ``proposed_commitment`` on reaching a won stage), None when the
    flag was removed or nothing was flagged."""
    blank = value is None or (isinstance(value, str) and not value.strip())
    if column.startswith(STAGE_PREFIX):
        fund_id = _fund_id(column, STAGE_PREFIX)
        if blank:
            return _unflag(ctx, opportunity)
        stage = _stage_named(ctx, value)
        if stage["kind"] == "lost":
            return _unflag(ctx, opportunity) if opportunity else None
        if opportunity is None:
            return flag_investor(
                ctx,
                investor_id,
                fund_id,
                {"stage_id": stage["id"], **_defaults(ctx, investor_id, fund_id)},
            )
        return update_opportunity(
            ctx,
            opportunity["id"],
            {"stage_id": stage["id"]},
            expected_version=opportunity["version"],
        )
    if column.startswith(EXPECTED_PREFIX):
        fund_id = _fund_id(column, EXPECTED_PREFIX)
        amount = None if blank else value  # parsed and checked by the pipeline service
        if opportunity is None:
            if amount is None:
                return None
            return flag_investor(ctx, investor_id, fund_id, {"expected_amount": amount})
        return update_opportunity(
            ctx,
            opportunity["id"],
            {"expected_amount": amount},
            expected_version=opportunity["version"],
        )
    raise ValidationError(f"Not a pipeline column: {column!r}", field=column)


def _fund_id(column: str, prefix: str) -> int:
    text = column.removeprefix(prefix)
    if not text.isdigit():
        raise ValidationError(f"Not a pipeline column: {column!r}", field=column)
    return int(text)


def _stage_named(ctx: Context, value: Any) -> dict[str, Any]:
    wanted = " ".join(str(value).split()).casefold()
    stages = list_stages(ctx)
    for stage in stages:
        if stage["name"].casefold() == wanted:
            return stage
    names = ", ".join(s["name"] for s in stages)
    raise ValidationError(
        f"No stage is called {str(value)!r}; the stages are {names}", field="stage"
    )


def _defaults(ctx: Context, investor_id: int, fund_id: int) -> dict[str, Any]:
    """What a new flag takes from the grid: the investor's commitment to the fund, if any, as
    the expected amount (the owner comes from the Owner field, as for every new opportunity)."""
    held = query_value(
        ctx.db,
        "SELECT amount FROM fundraising_commitments WHERE investor_id = ? AND fund_id = ?"
        " AND deleted_at IS NULL",
        [investor_id, fund_id],
    )
    return {"expected_amount": held} if held else {}


def _unflag(ctx: Context, opportunity: Mapping[str, Any] | None) -> None:
    if opportunity is not None:
        close_opportunity(
            ctx, opportunity["id"], UNFLAGGED, expected_version=opportunity["version"]
        )
    return None
