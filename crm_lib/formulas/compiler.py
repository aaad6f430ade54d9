"""Syntax tree → tree of steps, checking everything that can be known before a record is seen.

Compile time resolves field names (with "did you mean" suggestions), looks functions up in the
registry, checks arity and the types that field types make certain (``YEAR({Amount})`` is refused),
infers the result type, and folds constant sub-expressions. What is left for run time is only what
depends on record values.

The steps are closures over plain data; nothing here evaluates text as Python. Static types choose
fast paths: ``{Amount} * 0.02`` over a number field is one C-level ``map`` over the column.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from crm_lib.errors import FormulaError
from crm_lib.formulas import values as v
from crm_lib.formulas.engine import (
    CELL_ERRORS,
    Batch,
    Column,
    Step,
    apply_scalar,
    broadcast,
    runtime_message,
)
from crm_lib.formulas.limits import Limits
from crm_lib.formulas.parser import Binary, Call, FieldRef, Literal, Negate, Node
from crm_lib.formulas.registry import FunctionSpec, all_functions, lookup
from crm_lib.formulas.values import ErrorValue, EvalError, ValueType

T = ValueType

# --- steps -----------------------------------------------------------------------------------


class LiteralStep(Step):
    """A constant (a literal, or a sub-expression folded at compile time)."""

    __slots__ = ()

    def __init__(self, value: object, position: int) -> None:
        super().__init__(infer_type(value), position)
        self.constant = value
        self.is_constant = True

    def run(self, batch: Batch) -> Column:
        return broadcast(self.constant, batch.n)


class FieldStep(Step):
    """A field's values for the batch's records."""

    __slots__ = ("name",)

    def __init__(self, name: str, kind: ValueType, position: int) -> None:
        super().__init__(kind, position)
        self.name = name

    def run(self, batch: Batch) -> Column:
        return batch.column(self.name)


class NegateStep(Step):
    """Unary minus."""

    __slots__ = ("operand",)

    def __init__(self, operand: Step, position: int) -> None:
        super().__init__(T.NUMBER, position)
        self.operand = operand

    def run(self, batch: Batch) -> Column:
        column = self.operand.run(batch)
        return apply_scalar(
            _negate, [column], batch.n, where="-", position=self.position, coercers=[None]
        )


def _negate(value: object) -> object:
    return v.checked_number(-v.to_number(value))


class BinaryStep(Step):
    """An operator: a fast column path chosen from static types, and the scalar rule as fallback."""

    __slots__ = ("fast", "left", "op", "right", "scalar")

    def __init__(self, op: str, left: Step, right: Step, position: int) -> None:
        from crm_lib.formulas.functions.operators import OPERATORS

        spec = OPERATORS[op]
        super().__init__(spec.result_type(left.type, right.type), position)
        self.op = op
        self.left = left
        self.right = right
        self.scalar = spec.scalar
        self.fast = spec.fast_path(left.type, right.type)

    def run(self, batch: Batch) -> Column:
        left = self.left.run(batch)
        right = self.right.run(batch)
        batch.check_time()
        if self.fast is not None and not (left.has_errors or right.has_errors):
            try:
                return Column(self.fast(left.values, right.values))
            except CELL_ERRORS:
                pass  # some record needs the careful path; it will say which
        return apply_scalar(
            self.scalar, [left, right], batch.n, where=self.op, position=self.position
        )


class CallStep(Step):
    """A scalar function applied record by record, its arguments coerced to the declared kinds."""

    __slots__ = ("args", "coercions", "spec")

    def __init__(self, spec: FunctionSpec, args: list[Step], result: ValueType, position: int):
        super().__init__(result, position)
        self.spec = spec
        self.args = args
        self.coercions = [_coercion(spec.param_for(i).kind, arg.type) for i, arg in enumerate(args)]

    def run(self, batch: Batch) -> Column:
        columns = [arg.run(batch) for arg in self.args]
        coercers = [
            None if skip_when_clean and None not in column.values else convert
            for column, (skip_when_clean, convert) in zip(columns, self.coercions, strict=True)
        ]
        result = apply_scalar(
            self.spec.implementation,
            columns,
            batch.n,
            where=self.spec.name,
            position=self.position,
            coercers=coercers,
            accepts_errors=self.spec.accepts_errors,
        )
        batch.check_time()
        return result


class ColumnFormStep(Step):
    """A column-form function (IF, SWITCH, TODAY, RECORD_ID, ...) that runs its own arguments."""

    __slots__ = ("args", "spec")

    def __init__(self, spec: FunctionSpec, args: list[Step], result: ValueType, position: int):
        super().__init__(result, position)
        self.spec = spec
        self.args = args

    def run(self, batch: Batch) -> Column:
        try:
            result = self.spec.implementation(self, batch)
        except EvalError as exc:
            result = broadcast(ErrorValue(exc.message, self.position), batch.n)
        batch.check_time()
        return result


# --- coercion choices ------------------------------------------------------------------------

Coercion = tuple[bool, Callable[[object], object] | None]


def _as_list(value: object) -> list[object]:
    if type(value) is list:
        return value  # type: ignore[return-value]
    return [] if value is None else [value]


def _coercion(kind: ValueType, static: ValueType) -> Coercion:
    """(skip when the column has no blanks, converter) for an argument of ``static`` type."""
    if kind is T.NUMBER:
        return (static is T.NUMBER, v.to_number)
    if kind is T.TEXT:
        return (static is T.TEXT, v.to_text)
    if kind in v.DATE_TYPES:
        return (static in v.DATE_TYPES, v.to_date_value)
    if kind is T.BOOLEAN:
        return (static is T.BOOLEAN, v.truthy)
    if kind is T.ARRAY:
        return (static is T.ARRAY, _as_list)
    return (True, None)


# --- types -----------------------------------------------------------------------------------

#: Grid field types (crm_lib.grid.field_types) and engine type names → the formula value type.
FIELD_TYPE_VALUES: dict[str, ValueType] = {
    "text": T.TEXT,
    "long_text": T.TEXT,
    "url": T.TEXT,
    "email": T.TEXT,
    "phone": T.TEXT,
    "single_select": T.TEXT,
    "user": T.TEXT,
    "number": T.NUMBER,
    "currency": T.NUMBER,
    "percent": T.NUMBER,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "checkbox": T.BOOLEAN,
    "boolean": T.BOOLEAN,
    "multi_select": T.ARRAY,
    "array": T.ARRAY,
    "any": T.ANY,
}


def value_type_of(field_type: str) -> ValueType:
    """The formula type of a field type name; unknown names are refused, not guessed."""
    try:
        return FIELD_TYPE_VALUES[str(field_type)]
    except KeyError:
        known = ", ".join(sorted(FIELD_TYPE_VALUES))
        raise FormulaError(f"Unknown field type {field_type!r}; known types: {known}") from None


def infer_type(value: object) -> ValueType:
    """The static type of a Python value (for literals and for ``evaluate()``'s plain dicts)."""
    if isinstance(value, bool):
        return T.BOOLEAN
    if isinstance(value, int | float):
        return T.NUMBER
    if isinstance(value, str):
        return T.TEXT
    if isinstance(value, datetime):
        return T.DATETIME
    if hasattr(value, "isoformat"):
        return T.DATE
    if isinstance(value, list):
        return T.ARRAY
    return T.ANY


_TYPE_WORDS = {
    T.NUMBER: "a number",
    T.TEXT: "text",
    T.BOOLEAN: "a checkbox value",
    T.DATE: "a date",
    T.DATETIME: "a date and time",
    T.ARRAY: "a list",
    T.ANY: "a value",
}


def _incompatible(kind: ValueType, static: ValueType) -> bool:
    """Whether an argument of ``static`` type can never be used as ``kind``."""
    if kind is T.NUMBER:
        return static in v.DATE_TYPES
    if kind in v.DATE_TYPES:
        return static in (T.NUMBER, T.BOOLEAN, T.ARRAY)
    return False


# --- the compiler ----------------------------------------------------------------------------


class Compiler:
    """Turns one syntax tree into steps; collects the fields it reads and what it depends on."""

    def __init__(self, text: str, field_types: Mapping[str, ValueType], limits: Limits) -> None:
        self.text = text
        self.field_types = dict(field_types)
        self.by_folded_name = {name.casefold(): name for name in field_types}
        folded = Counter(name.casefold() for name in field_types)
        #: Names that only one field has when case is ignored (see :meth:`resolve_field`).
        self.unique_folded = {k: v for k, v in self.by_folded_name.items() if folded[k] == 1}
        self.limits = limits
        self.dependencies: set[str] = set()
        self.reads_clock = False
        self.reads_record = False

    def compile(self, node: Node) -> Step:
        if isinstance(node, Literal):
            return LiteralStep(node.value, node.position)
        if isinstance(node, FieldRef):
            name = self.resolve_field(node)
            self.dependencies.add(name)
            return FieldStep(name, self.field_types[name], node.position)
        if isinstance(node, Negate):
            operand = self.compile(node.operand)
            self._check_kind(T.NUMBER, operand, "-", "its operand", node.position)
            return self._fold(NegateStep(operand, node.position), [operand], pure=True)
        if isinstance(node, Binary):
            return self.compile_binary(node)
        if isinstance(node, Call):
            return self.compile_call(node)
        raise FormulaError(f"Unsupported expression at {node.position}", position=node.position)

    def resolve_field(self, node: FieldRef) -> str:
        """The field a reference names: exactly, including spaces, as in Airtable. One step
        wider than Airtable: a name that differs only in case from exactly one field names that
        field, so formulas saved before exact matching keep working (a rename rewrites them)."""
        if node.name in self.field_types:
            return node.name
        only = self.unique_folded.get(node.name.casefold())
        if only is not None:
            return only
        shown = "{" + node.name + "}"
        hint = ""
        same_letters = self.by_folded_name.get(" ".join(node.name.split()).casefold())
        if same_letters is not None:
            hint = f" — did you mean {{{same_letters}}}? Field names must match exactly"
        elif not node.braced and lookup(node.name) is not None:
            hint = f" — did you mean {node.name.upper()}()?"
        else:
            close = difflib.get_close_matches(
                node.name.casefold(), list(self.by_folded_name), n=1, cutoff=0.6
            )
            if close:
                hint = f" — did you mean {{{self.by_folded_name[close[0]]}}}?"
            elif not node.braced and " " not in node.name:
                hint = " (field names with spaces need braces: {Field Name})"
        raise FormulaError(
            f"Unknown field {shown} at {node.position}{hint}", position=node.position
        )

    def compile_binary(self, node: Binary) -> Step:
        left = self.compile(node.left)
        right = self.compile(node.right)
        if node.op in ("-", "*", "/", "+"):
            for side, word in ((left, "left"), (right, "right")):
                if side.type in v.DATE_TYPES:
                    raise FormulaError(
                        f"Cannot use a date in arithmetic ({word} of '{node.op}' at "
                        f"{node.position}): use DATEADD or DATETIME_DIFF",
                        position=node.position,
                    )
        step = BinaryStep(node.op, left, right, node.position)
        return self._fold(step, [left, right], pure=True)

    def compile_call(self, node: Call) -> Step:
        spec = lookup(node.name)
        if spec is None:
            names = sorted({s.name for s in all_functions()})
            close = difflib.get_close_matches(node.name, names, n=1, cutoff=0.6)
            hint = f" — did you mean {close[0]}?" if close else ""
            raise FormulaError(
                f"Unknown function {node.name} at {node.position}{hint}", position=node.position
            )
        count = len(node.args)
        if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
            raise FormulaError(
                f"{spec.name} expects {spec.arity_text()}, got {count} at {node.position}",
                position=node.position,
            )
        args = [self.compile(arg) for arg in node.args]
        for index, (arg, syntax) in enumerate(zip(args, node.args, strict=True)):
            param = spec.param_for(index)
            self._check_kind(param.kind, arg, spec.name, param.name, syntax.position)
        self.reads_clock = self.reads_clock or spec.reads_clock
        self.reads_record = self.reads_record or spec.reads_record
        result = spec.result_type([arg.type for arg in args])
        step: Step
        if spec.column_form:
            step = ColumnFormStep(spec, args, result, node.position)
        else:
            step = CallStep(spec, args, result, node.position)
        return self._fold(step, args, pure=spec.pure)

    def _check_kind(
        self, kind: ValueType, arg: Step, where: str, param: str, position: int
    ) -> None:
        if _incompatible(kind, arg.type):
            wanted = "a date" if kind in v.DATE_TYPES else _TYPE_WORDS[kind]
            raise FormulaError(
                f"{where} expects {wanted} for {param}, got {_TYPE_WORDS[arg.type]} at {position}",
                position=position,
            )

    def _fold(self, step: Step, args: Sequence[Step], *, pure: bool) -> Step:
        """Evaluate a pure step whose arguments are all constants once, now."""
        if not pure or not all(arg.is_constant for arg in args):
            return step
        batch = Batch(
            1,
            None,
            records=None,
            now=datetime(1970, 1, 1, tzinfo=UTC),
            zone=UTC,
            deadline=math.inf,
        )
        try:
            value = step.run(batch).values[0]
        except CELL_ERRORS as exc:
            value = ErrorValue(runtime_message(exc, "This formula"), step.position)
        folded = LiteralStep(value, step.position)
        folded.type = step.type
        return folded


def numbers(values: list[Any]) -> list[Any]:
    """A number column with blanks as 0 (numbers pass through untouched)."""
    return values if None not in values else [0 if x is None else x for x in values]


def texts(values: list[Any]) -> list[Any]:
    """A text column with blanks as "" (texts pass through untouched)."""
    return values if None not in values else [x or "" for x in values]


def finite(values: list[Any]) -> list[Any]:
    """Refuse a column holding infinity (an overflow); the careful path then names the records."""
    if math.inf in values or -math.inf in values:
        raise EvalError("The number is too large")
    return values


ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
ORDERING = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
