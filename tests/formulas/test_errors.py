"""Compile-time errors: each names the problem and the character offset, and suggests the fix."""

from __future__ import annotations

import pytest

from crm_lib.errors import ValidationError
from crm_lib.formulas import FormulaError, compile_formula

FIELDS = {
    "Committed": "currency",
    "Status": "single_select",
    "Last Contacted": "date",
    "Tags": "multi_select",
    "Name": "text",
}

CASES = [
    ("ROUND({Comitted} * 2, 0)", "Unknown field {Comitted} at 6 — did you mean {Committed}?", 6),
    ("{Committed} + Statuss", "Unknown field {Statuss} at 14 — did you mean {Status}?", 14),
    (
        "{Last  contacted}",
        "Unknown field {Last  contacted} at 0 — did you mean {Last Contacted}? Field names must "
        "match exactly",
        0,
    ),
    ("{Zebra} + 1", "Unknown field {Zebra} at 0", 0),
    ("TODAY + 1", "Unknown field {TODAY} at 0 — did you mean TODAY()?", 0),
    ("IF(1, 2, 3, 4)", "IF expects 2 or 3 arguments, got 4 at 0", 0),
    ("1 + ROUND()", "ROUND expects 1 or 2 arguments, got 0 at 4", 4),
    ("TODAY(1)", "TODAY expects no arguments, got 1 at 0", 0),
    ("MID('abc')", "MID expects 3 arguments, got 1 at 0", 0),
    ("SUMM(1, 2)", "Unknown function SUMM at 0 — did you mean SUM?", 0),
    ("YEAR({Committed})", "YEAR expects a date for date, got a number at 5", 5),
    ("ROUND({Last Contacted}, 0)", "ROUND expects a number for value, got a date at 6", 6),
    (
        "{Last Contacted} - 1",
        "Cannot use a date in arithmetic (left of '-' at 17): use DATEADD or DATETIME_DIFF",
        17,
    ),
    ("1 +", "The formula ends too early at 3: a value is missing", 3),
    ("(1 + 2", "Missing ')' at 6 to close the '(' at 0", 6),
    ("1 + 2)", "Unmatched ')' at 5", 5),
    ('"unclosed', 'Unclosed text starting at 0: add a closing "', 0),
    ("{Committed", "Unclosed field reference starting at 0: add a closing }", 0),
    ("IF(1,,2)", "Expected a value before ',' at 5", 5),
    ("1 2", "Missing operator before '2' at 2 (use & to join text)", 2),
    ("2 # 3", "Unexpected character '#' at 2", 2),
    ("   ", "The formula is empty", 0),
]


@pytest.mark.parametrize(("text", "message", "position"), CASES)
def test_compile_error(text: str, message: str, position: int) -> None:
    with pytest.raises(FormulaError) as caught:
        compile_formula(text, FIELDS)
    assert (caught.value.message, caught.value.position) == (message, position)


def test_formula_error_is_a_validation_error_with_the_one_json_shape() -> None:
    with pytest.raises(FormulaError) as caught:
        compile_formula("IF(1, 2, 3, 4)", FIELDS)
    assert isinstance(caught.value, ValidationError)
    assert caught.value.to_dict() == {
        "error": "formula",
        "detail": "IF expects 2 or 3 arguments, got 4 at 0",
        "position": 0,
    }


def test_field_names_match_exactly_or_by_case_when_one_field_has_the_name() -> None:
    """Airtable's reference: names match exactly, spaces included. Ours also takes a name that
    differs only in case from exactly one field (formulas saved before exact matching)."""
    formula = compile_formula("{Committed} * 2 & Status & {STATUS}", FIELDS)
    assert formula.dependencies == {"Committed", "Status"}
    with pytest.raises(FormulaError, match="did you mean \\{Status\\}"):
        compile_formula("{ Status }", FIELDS)
    both = {**FIELDS, "STAGE": FIELDS["Status"], "Stage": FIELDS["Status"]}
    assert compile_formula("{Stage} & {STAGE}", both).dependencies == {"Stage", "STAGE"}
    with pytest.raises(FormulaError, match="Unknown field \\{stage\\}"):
        compile_formula("{stage}", both)  # two fields by that name ignoring case: ambiguous


def test_result_type_is_inferred() -> None:
    kinds = {
        "{Committed} * 2": "number",
        '{Name} & "!"': "text",
        "{Committed} > 5": "boolean",
        'DATEADD({Last Contacted}, 1, "days")': "date",
        "NOW()": "datetime",
        "ARRAYCOMPACT({Tags})": "array",
        'IF({Committed}, "big", 0)': "any",
    }
    assert {text: compile_formula(text, FIELDS).result_type.value for text in kinds} == kinds


def test_unknown_field_type_is_refused() -> None:
    with pytest.raises(FormulaError, match="Unknown field type 'money'"):
        compile_formula("1", {"Amount": "money"})
