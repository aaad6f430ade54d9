"""A paste of many cells: validated as a whole, one transaction, and undone by the same call."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.services.cells import CellEdit
from tests.conftest import make_investors


def _audit_txns(ctx: Context) -> list[str]:
    return [
        row[0]
        for row in ctx.db.execute(
            "SELECT DISTINCT txn FROM audit_log WHERE action = 'update' ORDER BY id"
        )
    ]


def test_a_paste_writes_every_cell_in_one_audited_transaction(ctx: Context, fund: dict) -> None:
    acme, beta = make_investors(ctx, ["Acme", "Beta"])
    column = f"fund:{fund['id']}"
    written = services.update_cells(
        ctx,
        [
            CellEdit(acme["id"], "location", "Boston", acme["version"], "row 1, Acme"),
            CellEdit(acme["id"], "tags", "warm, re-up", acme["version"], "row 1, Acme"),
            CellEdit(beta["id"], "location", "Paris", beta["version"], "row 2, Beta"),
            CellEdit(beta["id"], column, "2,500,000", None, "row 2, Beta"),
        ],
    )
    assert written.changed == 4
    assert written.rows[acme["id"]]["location"] == "Boston"
    assert written.rows[acme["id"]]["tags"] == ["warm", "re-up"]
    assert written.rows[acme["id"]]["version"] == acme["version"] + 1  # one update per row
    assert services.get_investor(ctx, beta["id"])["investor"]["total_invested"] == 2_500_000
    assert len(_audit_txns(ctx)) == 1  # the whole paste is one audited transaction


def test_one_bad_cell_refuses_the_paste_naming_row_and_column(ctx: Context) -> None:
    acme, beta = make_investors(ctx, ["Acme", "Beta"])
    services.add_field(ctx, "Ticket", "currency", {})
    with pytest.raises(ValidationError) as caught:
        services.update_cells(
            ctx,
            [
                CellEdit(acme["id"], "location", "Boston", acme["version"], "row 1, Acme"),
                CellEdit(beta["id"], "ticket", "lots", beta["version"], "row 2, Beta"),
                CellEdit(beta["id"], "name", "  ", beta["version"], "row 2, Beta"),
            ],
        )
    message = caught.value.message
    assert message.startswith("Nothing was pasted: 2 cells do not fit.")
    assert "row 2, Beta, Ticket:" in message
    assert "row 2, Beta: Name cannot be empty" in message
    assert services.get_investor(ctx, acme["id"])["investor"]["location"] in (
        None,
        "",
    )  # nothing written


def test_undo_puts_back_what_was_there_and_refuses_after_someone_elses_change(
    ctx: Context, bob: Context, fund: dict
) -> None:
    (acme,) = make_investors(ctx, ["Acme"], location="Lyon", tags="cold")
    column = f"fund:{fund['id']}"
    pasted = services.update_cells(
        ctx,
        [
            CellEdit(acme["id"], "location", "Boston", acme["version"]),
            CellEdit(acme["id"], "tags", "warm", acme["version"]),
            CellEdit(acme["id"], column, 1000, None),
        ],
    )
    services.update_cells(ctx, pasted.undo)
    back = services.get_investor(ctx, acme["id"])["investor"]
    assert (back["location"], back["tags"], back["total_invested"]) == ("Lyon", ["cold"], 0)

    again = services.update_cells(ctx, [CellEdit(acme["id"], "location", "Rome", back["version"])])
    services.update_field(bob, acme["id"], "notes", "called", expected_version=back["version"] + 1)
    with pytest.raises(ConflictError):
        services.update_cells(ctx, again.undo)
    assert services.get_investor(ctx, acme["id"])["investor"]["location"] == "Rome"


def test_computed_columns_and_oversized_pastes_are_refused(ctx: Context) -> None:
    (acme,) = make_investors(ctx, ["Acme"])
    with pytest.raises(ValidationError, match="computed and cannot be pasted into"):
        services.update_cells(ctx, [CellEdit(acme["id"], "total_invested", 5, acme["version"])])
    too_many = [CellEdit(acme["id"], "location", "x", acme["version"])] * 5001
    with pytest.raises(ValidationError, match="at most 5,000 cells"):
        services.update_cells(ctx, too_many)


def test_view_totals_sum_every_matching_row_not_just_a_page(ctx: Context, fund: dict) -> None:
    services.add_field(ctx, "Ticket", "currency", {})
    services.add_field(ctx, "Odds", "percent", {})
    for index, name in enumerate(["Acme", "Beta", "Gamma"]):
        row = services.create_investor(
            ctx, {"name": name, "ticket": 100 * (index + 1), "location": "Paris"}
        )
        services.set_commitment(ctx, row["id"], fund["id"], 10.0 * (index + 1))
    services.create_investor(ctx, {"name": "Delta", "ticket": 1000, "odds": 0.5})
    totals = services.view_totals(
        ctx, {"list_membership": "all"}, conditions=[("location", "eq", "Paris")]
    )
    assert totals.count == 3
    assert totals.sums["ticket"] == 600
    assert totals.fund_sums == {fund["id"]: 60.0}
    assert "odds" not in totals.averages  # no Paris row has odds
    everyone = services.view_totals(ctx, {"list_membership": "all"})
    assert everyone.averages["odds"] == pytest.approx(0.5)
