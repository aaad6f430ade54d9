"""Logical functions: IF, SWITCH, AND, OR, NOT, XOR, BLANK, ERROR, ISERROR, IFERROR, TRUE, FALSE.

IF and SWITCH are column forms: they evaluate the condition for the whole batch, then run each branch
only on the records that take it, so ``IF({Amount} > 0, 1 / {Amount}, 0)`` never divides by zero and
an expensive branch costs only what it is used for.
"""

from __future__ import annotations

from collections.abc import Sequence

from crm_lib.formulas import values as v
from crm_lib.formulas.engine import Batch, Column, Step, broadcast, merge
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import ErrorValue, EvalError, ValueType

T = ValueType
A = T.ANY


def union(types: Sequence[ValueType]) -> ValueType:
    """One type if all agree (blanks aside), else ANY."""
    distinct = set(types)
    return distinct.pop() if len(distinct) == 1 else A


def run_on(step: Step | None, batch: Batch, indices: list[int]) -> Column:
    """``step`` for the records at ``indices`` only (a blank column when there is no step)."""
    if step is None:
        return Column([None] * len(indices))
    if len(indices) == batch.n:
        return step.run(batch)
    if step.is_constant:
        return broadcast(step.constant, len(indices))
    return step.run(batch.take(indices))


def choose(batch: Batch, chosen: list[object], branches: Sequence[Step | None]) -> Column:
    """Route each record to a branch: ``chosen[i]`` is a branch number or the record's ErrorValue."""
    groups: dict[int, list[int]] = {}
    errors: list[int] = []
    for index, choice in enumerate(chosen):
        if type(choice) is int:
            groups.setdefault(choice, []).append(index)
        else:
            errors.append(index)
    parts = [(indices, run_on(branches[b], batch, indices)) for b, indices in groups.items()]
    if errors:
        parts.append((errors, Column([chosen[i] for i in errors], True)))
    if len(parts) == 1 and len(parts[0][0]) == batch.n:
        return parts[0][1]
    return merge(batch.n, parts)


@register(
    "logical",
    params=[("condition", A), ("value_if_true", A), ("value_if_false?", A)],
    result=lambda types: union(types[1:]) if len(types) == 3 else types[1],
    column_form=True,
    examples=[
        ('IF(2 > 1, "yes", "no")', "yes"),
        ('IF("", "yes", "no")', "no"),
        ('IF(FALSE(), "yes")', None),
    ],
)
def IF(call: Step, batch: Batch) -> Column:
    """Returns value_if_true when the condition is true, otherwise value_if_false (or blank)."""
    args = call.args  # type: ignore[attr-defined]
    condition = args[0].run(batch)
    chosen: list[object] = [
        value if type(value) is ErrorValue else (0 if v.truthy(value) else 1)
        for value in condition.values
    ]
    return choose(batch, chosen, [args[1], args[2] if len(args) > 2 else None])


def _switch_key(value: object) -> object:
    """Patterns match like ``=`` for the common cases: numbers by value, text exactly, blank as blank."""
    if value is None or value == "":
        return None
    if type(value) is bool:
        return float(value)
    if type(value) is int or type(value) is float:
        return float(value)
    if type(value) is list:
        return v.to_text(value)
    return value


@register(
    "logical",
    params=[("expression", A), ("pattern", A), ("result", A), ("pattern_and_result...", A)],
    result=lambda types: union(
        [types[i] for i in range(2, len(types), 2)] + ([types[-1]] if len(types) % 2 == 0 else [])
    ),
    column_form=True,
    examples=[
        ('SWITCH("Diligence", "Meeting", 0.2, "Diligence", 0.5, 0.05)', 0.5),
        ('SWITCH("Passed", "Meeting", 0.2, "Diligence", 0.5, 0.05)', 0.05),
        ('SWITCH(2, 1, "one", 2, "two")', "two"),
    ],
)
def SWITCH(call: Step, batch: Batch) -> Column:
    """Compares an expression to each pattern and returns the result of the first match, else the default."""
    args = call.args  # type: ignore[attr-defined]
    cases = args[1:]
    pairs = [(cases[i], cases[i + 1]) for i in range(0, len(cases) - 1, 2)]
    default = cases[-1] if len(cases) % 2 == 1 else None
    results: list[Step | None] = [result for _, result in pairs] + [default]
    expression = args[0].run(batch)
    if all(pattern.is_constant for pattern, _ in pairs):
        table: dict[object, int] = {}
        for number, (pattern, _) in enumerate(pairs):
            table.setdefault(_switch_key(pattern.constant), number)
        fallback = len(pairs)
        chosen: list[object] = [
            value if type(value) is ErrorValue else table.get(_switch_key(value), fallback)
            for value in expression.values
        ]
        return choose(batch, chosen, results)
    patterns = [pattern.run(batch).values for pattern, _ in pairs]
    chosen = []
    for index, value in enumerate(expression.values):
        if type(value) is ErrorValue:
            chosen.append(value)
            continue
        match = len(pairs)
        for number, column in enumerate(patterns):
            candidate = column[index]
            if type(candidate) is ErrorValue:
                match = -1
                chosen.append(candidate)
                break
            if v.equal(value, candidate):
                match = number
                break
        if match != -1:
            chosen.append(match)
    return choose(batch, chosen, results)


@register(
    "logical",
    params=[("value", A), ("values", A)],
    result=T.BOOLEAN,
    examples=[('AND(1, TRUE(), "x")', True), ("AND(1, 0)", False)],
)
def AND(value: object, *values: object) -> bool:
    """True when every argument is true (lists count item by item)."""
    items = (value, *values)
    return all(map(v.truthy, items if list not in map(type, items) else v.flatten(items)))


@register(
    "logical",
    params=[("value", A), ("values", A)],
    result=T.BOOLEAN,
    examples=[('OR(0, "", 3)', True), ("OR(0, BLANK())", False)],
)
def OR(value: object, *values: object) -> bool:
    """True when any argument is true."""
    items = (value, *values)
    return any(map(v.truthy, items if list not in map(type, items) else v.flatten(items)))


@register(
    "logical",
    params=[("value", A), ("values", A)],
    result=T.BOOLEAN,
    examples=[("XOR(TRUE(), FALSE())", True), ("XOR(1, 1)", False), ("XOR(1, 1, 1)", True)],
)
def XOR(value: object, *values: object) -> bool:
    """True when an odd number of arguments are true."""
    return sum(1 for item in v.flatten((value, *values)) if v.truthy(item)) % 2 == 1


@register(
    "logical",
    params=[("value", A)],
    result=T.BOOLEAN,
    examples=[("NOT(0)", True), ('NOT("x")', False)],
)
def NOT(value: object) -> bool:
    """Reverses a true/false value."""
    return not v.truthy(value)


@register(
    "logical",
    params=[],
    result=A,
    examples=[("BLANK()", None), ('IF(BLANK(), "set", "empty")', "empty")],
)
def BLANK() -> None:
    """Returns a blank value."""
    return None


@register("logical", params=[], result=A, examples=[("ISERROR(ERROR())", True)])
def ERROR() -> object:
    """Returns an error value (shown as #ERROR)."""
    raise EvalError("ERROR() was called")


@register(
    "logical",
    params=[("value", A)],
    result=T.BOOLEAN,
    accepts_errors=True,
    examples=[("ISERROR(1 / 0)", True), ("ISERROR(1 / 2)", False)],
)
def ISERROR(value: object) -> bool:
    """True when the value is an error."""
    return type(value) is ErrorValue


@register(
    "logical",
    params=[("value", A), ("value_if_error", A)],
    result=lambda types: union(types),
    accepts_errors=True,
    examples=[("IFERROR(1 / 0, 0)", 0), ('IFERROR("ok", "bad")', "ok")],
)
def IFERROR(value: object, value_if_error: object) -> object:
    """The value, or value_if_error when the value is an error."""
    return value_if_error if type(value) is ErrorValue else value


@register("logical", params=[], result=T.BOOLEAN, examples=[("TRUE()", True), ("TRUE() = 1", True)])
def TRUE() -> bool:
    """The logical value true (1 in arithmetic)."""
    return True


@register("logical", params=[], result=T.BOOLEAN, examples=[("FALSE()", False), ("FALSE() + 0", 0)])
def FALSE() -> bool:
    """The logical value false (0 in arithmetic)."""
    return False
