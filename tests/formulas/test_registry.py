"""Every registered function and operator: its examples run, through every evaluation path."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crm_lib.formulas import compile_formula, evaluate
from crm_lib.formulas.functions.operators import OPERATORS
from crm_lib.formulas.parser import Call, Literal, parse
from crm_lib.formulas.registry import all_functions, lookup

ISSUE_FUNCTIONS = [
    "IF",
    "SWITCH",
    "AND",
    "OR",
    "NOT",
    "XOR",
    "BLANK",
    "ERROR",
    "ISERROR",
    "TRUE",
    "FALSE",
    "ABS",
    "ROUND",
    "ROUNDUP",
    "ROUNDDOWN",
    "CEILING",
    "FLOOR",
    "INT",
    "MOD",
    "POWER",
    "SQRT",
    "EXP",
    "LOG",
    "LOG10",
    "SUM",
    "AVERAGE",
    "MIN",
    "MAX",
    "COUNT",
    "COUNTA",
    "COUNTALL",
    "VALUE",
    "EVEN",
    "ODD",
    "CONCATENATE",
    "LEFT",
    "RIGHT",
    "MID",
    "LEN",
    "LOWER",
    "UPPER",
    "TRIM",
    "SUBSTITUTE",
    "REPLACE",
    "FIND",
    "SEARCH",
    "REPT",
    "T",
    "ENCODE_URL_COMPONENT",
    "REGEX_MATCH",
    "REGEX_EXTRACT",
    "REGEX_REPLACE",
    "TODAY",
    "NOW",
    "DATEADD",
    "DATETIME_DIFF",
    "DATETIME_FORMAT",
    "DATETIME_PARSE",
    "DATESTR",
    "YEAR",
    "MONTH",
    "DAY",
    "WEEKDAY",
    "WEEKNUM",
    "HOUR",
    "MINUTE",
    "SECOND",
    "IS_BEFORE",
    "IS_AFTER",
    "IS_SAME",
    "WORKDAY",
    "WORKDAY_DIFF",
    "SET_TIMEZONE",
    "TONOW",
    "FROMNOW",
    "ARRAYJOIN",
    "ARRAYUNIQUE",
    "ARRAYCOMPACT",
    "ARRAYFLATTEN",
    "RECORD_ID",
    "CREATED_TIME",
    "LAST_MODIFIED_TIME",
]

FUNCTION_EXAMPLES = [
    pytest.param(text, expected, id=f"{spec.name}: {text}")
    for spec in all_functions()
    for text, expected in spec.examples
]
OPERATOR_EXAMPLES = [
    pytest.param(text, expected, id=f"{symbol}: {text}")
    for symbol, spec in OPERATORS.items()
    for text, expected in spec.examples
]


def same(got: object, expected: object) -> bool:
    """Equal value and kind (3 and 3.0 agree; TRUE is not 1; a date is not a datetime)."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(got - expected) < 1e-9
    return type(got) is type(expected) and got == expected


def test_every_function_the_issue_names_is_registered() -> None:
    missing = [name for name in ISSUE_FUNCTIONS if lookup(name) is None]
    assert missing == []


def test_every_function_has_a_signature_doc_and_example() -> None:
    for spec in all_functions():
        assert spec.doc and spec.examples and spec.signature().startswith(spec.name + "(")


def test_function_names_are_case_insensitive() -> None:
    assert evaluate('upper("lp") & Left("Fund", 1)', {}) == "LPF"


@pytest.mark.parametrize(("text", "expected"), FUNCTION_EXAMPLES + OPERATOR_EXAMPLES)
def test_example(text: str, expected: object) -> None:
    got = evaluate(text, {})
    assert same(got, expected), f"{text} gave {got!r}, expected {expected!r}"


def _lifted(text: str) -> tuple[str, dict[str, object]] | None:
    """``F(1, "a")`` → ``F({a0}, {a1})`` with fields a0=1, a1="a": the same call on record values."""
    tree = parse(text)
    if not isinstance(tree, Call) or not tree.args:
        return None
    if not all(isinstance(arg, Literal) for arg in tree.args):
        return None
    fields = {f"a{i}": arg.value for i, arg in enumerate(tree.args)}  # type: ignore[union-attr]
    return f"{tree.name}(" + ", ".join("{" + name + "}" for name in fields) + ")", fields


LIFTABLE = [p for p in FUNCTION_EXAMPLES if _lifted(p.values[0]) is not None]


@pytest.mark.parametrize(("text", "expected"), LIFTABLE)
def test_example_on_record_values_single_and_bulk(text: str, expected: object) -> None:
    """With literals moved into fields nothing is folded at compile time: the run-time paths (one
    record, and a column of three) must give the example's result too."""
    lifted, fields = _lifted(text)  # type: ignore[misc]
    assert same(evaluate(lifted, fields), expected)
    types = {name: _type_of(value) for name, value in fields.items()}
    formula = compile_formula(lifted, types)
    columns = {name: [value, value, value] for name, value in fields.items()}
    for got in formula.evaluate_many(columns):
        assert same(got, expected), f"{lifted} gave {got!r} in bulk, expected {expected!r}"


def _type_of(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "text"
