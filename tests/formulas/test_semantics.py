"""Airtable's value rules: blanks, numbers against text, booleans, operators, per-cell errors."""

from __future__ import annotations

import pytest

from crm_lib.formulas import ErrorValue, FormulaError, compile_formula, evaluate

CASES = [
    # blanks: 0 in arithmetic, "" in text, equal to both
    ("{n} + 1", {"n": None}, 1),
    ("{n} * 5", {"n": None}, 0),
    ('{t} & "x"', {"t": None}, "x"),
    ("{n} = 0", {"n": None}, True),
    ('{t} = ""', {"t": None}, True),
    ("{t} = BLANK()", {"t": ""}, True),
    ("IF({t}, 1, 2)", {"t": None}, 2),
    ("IF({n}, 1, 2)", {"n": 0}, 2),
    ("LEN({t})", {"t": None}, 0),
    ("COUNTA({a}, {b})", {"a": None, "b": "x"}, 1),
    # numbers and text
    ('"3" * 2', {}, 6),
    ('"1,200" + 0', {}, "1,2000"),  # + joins when a side is text, as in Airtable
    ("{t} - 1", {"t": "$1,200"}, 1199),
    ('10 = "10"', {}, True),
    ('2 < "10"', {}, True),
    ('"2" < "10"', {}, False),  # two texts compare as text
    ('"abc" = "ABC"', {}, False),
    ('0.1 + 0.2 & ""', {}, "0.3"),
    ('3 / 2 & ""', {}, "1.5"),
    ('6 / 2 & ""', {}, "3"),
    ('"Q" & 4', {}, "Q4"),
    # booleans
    ("TRUE + TRUE", {}, 2),
    ("{c} * 10", {"c": True}, 10),
    ('{c} & ""', {"c": False}, "0"),
    ("NOT({c})", {"c": None}, True),
    # precedence: comparison < & < + - < * / < unary minus
    ("1 + 2 * 3", {}, 7),
    ("(1 + 2) * 3", {}, 9),
    ("-2 * 3", {}, -6),
    ("- {n} + 1", {"n": 5}, -4),
    ('1 + 1 & "x"', {}, "2x"),
    ('"a" & 1 = "a1"', {}, True),
    ("10 - 4 - 3", {}, 3),
    ("100 / 10 / 5", {}, 2),
    # bare field names and literals
    ("Amount * 2", {"Amount": 4}, 8),
    ("true", {}, True),
    ("'single' & \"double\"", {}, "singledouble"),
    ('"line\\nbreak"', {}, "line\nbreak"),
    ("1e3 + .5", {}, 1000.5),
    # arrays (multi-select values)
    ('ARRAYJOIN({tags}, "/")', {"tags": ["LP", "GP"]}, "LP/GP"),
    ('{tags} & ""', {"tags": ["LP", "GP"]}, "LP, GP"),
    ("SUM({amounts}, 1)", {"amounts": [1, 2.5]}, 4.5),
    ("COUNTALL({tags})", {"tags": ["a", None, "b"]}, 3),
    ("IF({tags}, 1, 0)", {"tags": []}, 0),
]


@pytest.mark.parametrize(("text", "fields", "expected"), CASES)
def test_value_rule(text: str, fields: dict, expected: object) -> None:
    got = evaluate(text, fields)
    assert (got == expected and type(got) is type(expected)) or (
        isinstance(expected, float | int)
        and not isinstance(expected, bool)
        and isinstance(got, int | float)
        and abs(got - expected) < 1e-9
    ), f"{text} with {fields} gave {got!r}"


def test_an_error_in_one_record_is_that_cells_error_value_and_the_column_goes_on() -> None:
    formula = compile_formula("100 / {Shares}", {"Shares": "number"})
    values = formula.evaluate_many({"Shares": [4, 0, None, 5]})
    assert values[0] == 25 and values[3] == 20
    assert values[1] == values[2] == ErrorValue("Cannot divide by zero", 4)
    assert str(values[1]) == "#ERROR: Cannot divide by zero"


def test_errors_propagate_and_iserror_catches_them() -> None:
    types = {"Shares": "number"}
    propagate = compile_formula('ROUND(100 / {Shares}, 1) & " each"', types)
    assert propagate.evaluate_many({"Shares": [3, 0]}) == [
        "33.3 each",
        ErrorValue("Cannot divide by zero", 4 + 6),
    ]
    caught = compile_formula('IF(ISERROR(100 / {Shares}), "n/a", 100 / {Shares})', types)
    assert caught.evaluate_many({"Shares": [4, 0]}) == [25, "n/a"]


def test_if_runs_each_branch_only_for_the_records_that_take_it() -> None:
    # 1 / {x} is never computed for x = 0, so there is no error to show.
    formula = compile_formula("IF({x} != 0, 1 / {x}, 0)", {"x": "number"})
    assert formula.evaluate_many({"x": [2, 0, 4]}) == [0.5, 0, 0.25]


def test_evaluate_raises_formula_error_for_a_value_that_cannot_be_computed() -> None:
    with pytest.raises(FormulaError, match="Cannot divide by zero") as caught:
        evaluate("{a} / {b}", {"a": 1, "b": 0})
    assert caught.value.position == 4


def test_text_in_arithmetic_that_is_not_a_number_names_the_text() -> None:
    with pytest.raises(FormulaError, match='Cannot use text "Acme" as a number'):
        evaluate("{Name} * 2", {"Name": "Acme"})


def test_stored_values_are_read_by_field_type() -> None:
    """SQLite gives dates as ISO text, checkboxes as 0/1 and multi-selects as JSON text."""
    formula = compile_formula(
        'YEAR({Met}) & "|" & IF({Active}, "on", "off") & "|" & ARRAYJOIN({Tags}, "+")',
        {"Met": "date", "Active": "checkbox", "Tags": "multi_select"},
    )
    got = formula.evaluate_many(
        {"Met": ["2026-03-01", "2025-01-02"], "Active": [1, 0], "Tags": ['["LP","GP"]', "[]"]}
    )
    assert got == ["2026|on|LP+GP", "2025|off|"]


def test_bulk_and_single_record_paths_agree() -> None:
    types = {"Amount": "currency", "Status": "single_select", "Email": "email"}
    text = 'IF(AND({Status} = "Committed", {Amount} > 10), ROUND({Amount} * 1.5, 1), REGEX_EXTRACT({Email}, "@.+"))'
    formula = compile_formula(text, types)
    columns = {
        "Amount": [5, 20, None, 12.25, 0],
        "Status": ["Committed", "Committed", "Committed", "Passed", None],
        "Email": ["a@x.io", None, "b@y.io", "nope", ""],
    }
    bulk = formula.evaluate_many(columns)
    single = [formula.evaluate({k: v[i] for k, v in columns.items()}) for i in range(5)]
    assert bulk == single == ["@x.io", 30, "@y.io", None, None]
