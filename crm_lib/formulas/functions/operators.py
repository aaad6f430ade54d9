"""Operators: ``+ - * /``, ``&`` and the comparisons, each with its scalar rule and fast column path.

The scalar rule is Airtable's (blanks, numeric text, ``+`` joining text); the fast path is taken when
the operands' static types make the rule trivial (two number columns multiply with one C-level
``map``). A fast path that meets a problem raises, and the engine redoes the column record by record
with the scalar rule, so both paths always agree.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crm_lib.formulas import values as v
from crm_lib.formulas.compiler import ARITHMETIC, ORDERING, finite, numbers, texts
from crm_lib.formulas.limits import active_limits, check_text
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
FastPath = Callable[[list[Any], list[Any]], list[Any]]


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """One operator: symbol, doc, examples (run by the tests), scalar rule and typing rules."""

    symbol: str
    doc: str
    examples: tuple[tuple[str, object], ...]
    scalar: Callable[[object, object], object]
    result: Callable[[ValueType, ValueType], ValueType]
    fast: Callable[[ValueType, ValueType], FastPath | None]

    def result_type(self, left: ValueType, right: ValueType) -> ValueType:
        return self.result(left, right)

    def fast_path(self, left: ValueType, right: ValueType) -> FastPath | None:
        return self.fast(left, right)


def _add(left: object, right: object) -> object:
    if type(left) is str or type(right) is str:
        return check_text(v.to_text(left) + v.to_text(right))
    return v.checked_number(v.to_number(left) + v.to_number(right))


def _subtract(left: object, right: object) -> object:
    return v.checked_number(v.to_number(left) - v.to_number(right))


def _multiply(left: object, right: object) -> object:
    return v.checked_number(v.to_number(left) * v.to_number(right))


def _divide(left: object, right: object) -> object:
    divisor = v.to_number(right)
    if divisor == 0:
        raise EvalError("Cannot divide by zero")
    return v.checked_number(v.to_number(left) / divisor)


def _concat(left: object, right: object) -> object:
    return check_text(v.to_text(left) + v.to_text(right))


def _comparison(symbol: str) -> Callable[[object, object], bool]:
    if symbol == "=":
        return v.equal
    if symbol == "!=":
        return lambda left, right: not v.equal(left, right)
    test = ORDERING[symbol]
    return lambda left, right: test(v.compare(left, right), 0)


def _numeric(left: ValueType, right: ValueType) -> bool:
    return left in v.NUMERIC_TYPES and right in v.NUMERIC_TYPES


def _arithmetic_fast(symbol: str) -> Callable[[ValueType, ValueType], FastPath | None]:
    combine = ARITHMETIC[symbol]

    def choose(left: ValueType, right: ValueType) -> FastPath | None:
        if not (left is T.NUMBER and right is T.NUMBER):
            return None
        return lambda a, b: finite(list(map(combine, numbers(a), numbers(b))))

    return choose


def _arithmetic_result(symbol: str) -> Callable[[ValueType, ValueType], ValueType]:
    def result(left: ValueType, right: ValueType) -> ValueType:
        if symbol == "+" and T.TEXT in (left, right):
            return T.TEXT
        if symbol == "+" and T.ANY in (left, right):
            return T.ANY
        return T.NUMBER

    return result


def _concat_fast(left: ValueType, right: ValueType) -> FastPath | None:
    def as_texts(values: list[Any], kind: ValueType) -> list[Any]:
        return texts(values) if kind is T.TEXT else list(map(v.to_text, values))

    def run(a: list[Any], b: list[Any]) -> list[Any]:
        out = list(map(operator.add, as_texts(a, left), as_texts(b, right)))
        if out and max(map(len, out)) > active_limits().max_text_length:
            raise EvalError("Text too long")
        return out

    return run


def _comparison_fast(symbol: str) -> Callable[[ValueType, ValueType], FastPath | None]:
    test = ORDERING[symbol]

    def choose(left: ValueType, right: ValueType) -> FastPath | None:
        if left is T.NUMBER and right is T.NUMBER:
            return lambda a, b: list(map(test, numbers(a), numbers(b)))
        if left is T.TEXT and right is T.TEXT:
            return lambda a, b: list(map(test, texts(a), texts(b)))
        return None

    return choose


def _boolean(_left: ValueType, _right: ValueType) -> ValueType:
    return T.BOOLEAN


def _text(_left: ValueType, _right: ValueType) -> ValueType:
    return T.TEXT


OPERATORS: dict[str, OperatorSpec] = {
    "+": OperatorSpec(
        "+",
        "Adds two numbers (a blank counts as 0); joins them if either side is text.",
        (("1 + 2", 3), ("BLANK() + 5", 5), ('"Q" + 4', "Q4")),
        _add,
        _arithmetic_result("+"),
        _arithmetic_fast("+"),
    ),
    "-": OperatorSpec(
        "-",
        "Subtracts the right number from the left.",
        (("10 - 4", 6), ('"1,200" - 200', 1000)),
        _subtract,
        _arithmetic_result("-"),
        _arithmetic_fast("-"),
    ),
    "*": OperatorSpec(
        "*",
        "Multiplies two numbers.",
        (("2 * 3.5", 7), ("TRUE() * 5", 5)),
        _multiply,
        _arithmetic_result("*"),
        _arithmetic_fast("*"),
    ),
    "/": OperatorSpec(
        "/",
        "Divides the left number by the right; dividing by zero is a cell error.",
        (("7 / 2", 3.5),),
        _divide,
        _arithmetic_result("/"),
        _arithmetic_fast("/"),
    ),
    "&": OperatorSpec(
        "&",
        "Joins two values as text (numbers print without a trailing .0).",
        (('"Fund " & 3', "Fund 3"), ('"a" & BLANK() & "b"', "ab"), ('1.50 & ""', "1.5")),
        _concat,
        _text,
        _concat_fast,
    ),
}

_COMPARISON_DOCS = {
    "=": (
        'Equal: numbers and numeric text compare as numbers; a blank equals 0 and "".',
        (('1 = "1"', True), ("BLANK() = 0", True), ('"a" = "A"', False)),
    ),
    "!=": ("Not equal (also written <>).", (("1 != 2", True), ("2 <> 2", False))),
    "<": (
        "Less than: numbers by value, text alphabetically, dates by time.",
        (("1 < 2", True), ('"apple" < "banana"', True)),
    ),
    ">": (
        "Greater than.",
        (("3 > 2", True), ('DATETIME_PARSE("2026-01-02") > DATETIME_PARSE("2026-01-01")', True)),
    ),
    "<=": ("Less than or equal.", (("2 <= 2", True),)),
    ">=": ("Greater than or equal.", (("1 >= 2", False),)),
}

for _symbol, (_doc, _examples) in _COMPARISON_DOCS.items():
    OPERATORS[_symbol] = OperatorSpec(
        _symbol, _doc, _examples, _comparison(_symbol), _boolean, _comparison_fast(_symbol)
    )
