"""Formula fields in the grid: stored results, recomputed on edit, filtered and sorted like data."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import FormulaError, ValidationError
from crm_lib.grid import formula_fields
from tests.conftest import make_investors


def _column(ctx: Context, key: str) -> dict[str, object]:
    rows = ctx.db.execute(f'SELECT name, "{key}" FROM fundraising_investors ORDER BY id')
    return dict(rows.fetchall())


def test_a_formula_field_computes_every_row_and_stores_typed_results(ctx: Context, fund) -> None:
    make_investors(ctx, ["Acme", "Birch"])
    services.set_commitment(ctx, 1, fund["id"], 1_000_000)
    fee = services.add_field(ctx, "Fee", "formula", formula="{Total invested} * 0.02")
    assert (fee.type, fee.options["result_type"], fee.is_editable) == ("formula", "number", False)
    assert _column(ctx, "fee") == {"Acme": 20_000.0, "Birch": 0.0}
    declared = {c.name: c.type for c in ctx.db["fundraising_investors"].columns}
    assert declared["fee"] == "REAL"


def test_an_edit_recomputes_only_dependents_in_the_same_write(ctx: Context, fund) -> None:
    [acme] = make_investors(ctx, ["Acme"], status="Prospect")
    services.add_field(ctx, "Fee", "formula", formula="{Total invested} * 0.02")
    services.add_field(ctx, "Label", "formula", formula='UPPER({Name}) & " / " & {Status}')
    services.add_field(ctx, "Big", "formula", formula="IF({Fee} > 10000, 'big', 'small')")
    traced: list[str] = []
    graph = formula_fields.grid_formulas(services.fields.load_fields(ctx.db), ctx.clock).graph
    graph.tracer = lambda name, n: traced.append(name)
    try:
        updated = services.update_field(ctx, acme["id"], "status", "Meeting", expected_version=1)
    finally:
        graph.tracer = None
    assert traced == ["Label"]
    assert updated["label"] == "ACME / Meeting"
    services.set_commitment(ctx, acme["id"], fund["id"], 2_000_000)
    assert _column(ctx, "fee") == {"Acme": 40_000.0}
    assert _column(ctx, "big") == {"Acme": "big"}


def test_a_formula_field_filters_and_sorts_like_any_other(ctx: Context, fund) -> None:
    for name, amount in [("A", 100), ("B", 3_000), ("C", 2_000)]:
        [investor] = make_investors(ctx, [name])
        services.set_commitment(ctx, investor["id"], fund["id"], amount)
    services.add_field(ctx, "Double", "formula", formula="{Total invested} * 2")
    page = services.list_investors(
        ctx, sort=[("Double", "desc")], conditions=[("Double", "gt", 1000)]
    )
    assert [r["name"] for r in page.rows] == ["B", "C"]
    assert page.total_invested == 5_000


def test_errors_are_stored_per_cell_and_named(ctx: Context) -> None:
    make_investors(ctx, ["Acme"])
    services.add_field(ctx, "Bad", "formula", formula="1 / 0")
    assert str(_column(ctx, "bad")["Acme"]).startswith("#ERROR: ")
    services.add_field(ctx, "Uses bad", "formula", formula="{Bad} + 1")
    assert str(_column(ctx, "uses_bad")["Acme"]).startswith("#ERROR")


def test_the_editor_check_reports_message_position_and_samples(ctx: Context) -> None:
    make_investors(ctx, ["Acme"], status="Meeting")
    check = services.check_formula(ctx, "{Stats} & '!'")
    assert (check.ok, check.position) == (False, 0)
    assert "did you mean {Status}?" in check.message
    good = services.check_formula(ctx, "{Status} & '!'")
    assert (good.ok, good.result_type, good.dependencies) == (True, "text", ("Status",))
    assert good.samples == ({"id": 1, "name": "Acme", "value": "Meeting!"},)
    with pytest.raises(FormulaError, match="at 3"):
        services.add_field(ctx, "Broken", "formula", formula="1 +")


def test_cycles_are_refused_naming_the_loop(ctx: Context) -> None:
    a = services.add_field(ctx, "A", "formula", formula="1")
    services.add_field(ctx, "B", "formula", formula="{A} + 1")
    with pytest.raises(FormulaError, match=r"cycle: \{A\} → \{B\} → \{A\}"):
        services.update_formula(ctx, "a", "{B} * 2", expected_version=a.version)


def test_changing_a_formula_recomputes_its_column_and_downstream(ctx: Context) -> None:
    make_investors(ctx, ["Acme"])
    a = services.add_field(ctx, "A", "formula", formula="1")
    services.add_field(ctx, "B", "formula", formula="{A} + 1")
    services.update_formula(ctx, "a", "10", expected_version=a.version)
    assert _column(ctx, "b") == {"Acme": 11.0}
    text = services.update_formula(ctx, "a", "'ten'", expected_version=a.version + 1)
    assert text.options["result_type"] == "text"
    assert _column(ctx, "a") == {"Acme": "ten"}


def test_archiving_a_field_a_formula_reads_is_refused(ctx: Context) -> None:
    ticket = services.add_field(ctx, "Ticket", "number")
    services.add_field(ctx, "Half", "formula", formula="{Ticket} / 2")
    with pytest.raises(ValidationError, match="used by the formula of \\{Half\\}"):
        services.archive_field(ctx, "ticket", expected_version=ticket.version)


def test_renaming_a_field_rewrites_formulas_that_name_it(ctx: Context) -> None:
    ticket = services.add_field(ctx, "Ticket", "number")
    services.add_field(ctx, "Half", "formula", formula='{Ticket} / 2 & "{Ticket}"')
    [acme] = make_investors(ctx, ["Acme"], Ticket=10)
    services.rename_field(ctx, "ticket", "Check size", expected_version=ticket.version)
    half = services.fields.load_fields(ctx.db)["half"]
    assert half.formula == '{Check size} / 2 & "{Ticket}"'
    services.update_field(ctx, acme["id"], "Check size", 30, expected_version=1)
    assert _column(ctx, "half") == {"Acme": "15{Ticket}"}


def test_bulk_created_rows_get_their_formula_results(ctx: Context) -> None:
    services.add_field(ctx, "Shout", "formula", formula="UPPER({Name})")
    services.bulk_create_investors(ctx, [{"name": "acme"}, {"name": "birch"}])
    assert _column(ctx, "shout") == {"acme": "ACME", "birch": "BIRCH"}


def test_formula_cells_cannot_be_edited(ctx: Context) -> None:
    services.add_field(ctx, "Shout", "formula", formula="UPPER({Name})")
    [acme] = make_investors(ctx, ["acme"])
    with pytest.raises(ValidationError, match="Shout is calculated"):
        services.update_field(ctx, acme["id"], "Shout", "x", expected_version=1)
