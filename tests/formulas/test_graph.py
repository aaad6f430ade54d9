"""The dependency graph: cycles refused by name; only dependents recompute, counted not timed."""

from __future__ import annotations

import pytest

from crm_lib.formulas import FormulaError, FormulaGraph, compile_formula
from crm_lib.formulas.graph import find_cycle

DATA_TYPES = {
    "Committed": "currency",
    "Target": "currency",
    "Status": "single_select",
    "Name": "text",
}
DEFINITIONS = {
    "Fee": "ROUND({Committed} * 0.02, 2)",
    "Net": "{Committed} - {Fee}",
    "Gap": "{Target} - {Committed}",
    "Label": '{Name} & ": " & {Net}',
    "Stage": 'IF({Status} = "Committed", "Closed", "Open")',
}


def build(tracer: object = None) -> FormulaGraph:
    """Compile formula fields in dependency order (each sees the earlier ones' result types)."""
    types: dict[str, str] = dict(DATA_TYPES)
    formulas = {}
    for name in ("Fee", "Net", "Gap", "Label", "Stage"):
        formula = compile_formula(DEFINITIONS[name], types)
        formulas[name] = formula
        types[name] = formula.result_type.value
    return FormulaGraph(formulas, tracer=tracer)  # type: ignore[arg-type]


def test_a_cycle_is_refused_naming_it() -> None:
    types = {"A": "number", "B": "number", "C": "number", "X": "number"}
    formulas = {
        "A": compile_formula("{B} + 1", types),
        "B": compile_formula("{C} * 2", types),
        "C": compile_formula("{A} - {X}", types),
    }
    with pytest.raises(FormulaError, match=r"Formulas form a cycle: \{A\} → \{B\} → \{C\} → \{A\}"):
        FormulaGraph(formulas)


def test_a_formula_reading_itself_is_a_cycle() -> None:
    assert find_cycle({"A": {"A", "X"}}) == ["A", "A"]
    assert find_cycle({"A": {"B"}, "B": {"X"}}) is None


def test_order_puts_every_formula_after_what_it_reads() -> None:
    order = build().order
    assert order.index("Fee") < order.index("Net") < order.index("Label")
    assert set(order) == set(DEFINITIONS)


def test_a_cell_edit_recomputes_only_its_dependents_for_that_record() -> None:
    calls: list[tuple[str, int]] = []
    graph = build(tracer=lambda name, rows: calls.append((name, rows)))
    record = {"Committed": 1_000_000, "Target": 2_000_000, "Status": "Meeting", "Name": "Acme"}

    assert graph.recompute_record(record, ["Committed"]) == {
        "Fee": 20000,
        "Net": 980000,
        "Gap": 1000000,
        "Label": "Acme: 980000",
    }
    assert calls == [("Fee", 1), ("Gap", 1), ("Net", 1), ("Label", 1)]

    calls.clear()
    assert graph.recompute_record(record, ["Status"]) == {"Stage": "Open"}
    assert calls == [("Stage", 1)]

    calls.clear()
    stored = {**record, "Fee": 20000, "Net": 980000}  # formula values as the grid stores them
    assert graph.recompute_record(stored, ["Name"]) == {"Label": "Acme: 980000"}
    assert calls == [("Label", 1)]


def test_a_changed_formula_recomputes_its_column_and_dependents_in_bulk() -> None:
    calls: list[tuple[str, int]] = []
    graph = build(tracer=lambda name, rows: calls.append((name, rows)))
    columns = {
        "Committed": [100.0, 200.0, None],
        "Target": [300.0, 200.0, 50.0],
        "Status": ["Committed", None, "Passed"],
        "Name": ["A", "B", "C"],
    }
    result = graph.recompute_columns(columns, ["Fee"])
    assert list(result) == ["Fee", "Net", "Label"]
    assert result["Net"] == [98, 196, 0]
    assert result["Label"] == ["A: 98", "B: 196", "C: 0"]
    assert calls == [("Fee", 3), ("Net", 3), ("Label", 3)]


def test_an_unrelated_field_recomputes_nothing() -> None:
    calls: list[tuple[str, int]] = []
    graph = build(tracer=lambda name, rows: calls.append((name, rows)))
    assert graph.recompute_record({"Notes": "x"}, ["Notes"]) == {}
    assert calls == []
