"""Column-at-a-time evaluation: the runtime the compiler's steps are made of.

A compiled formula is a tree of *steps*. Each step takes a :class:`Batch` (some records' field
values, held as columns) and returns a :class:`Column` of results, one per record. Evaluating a
column at a time, not a record at a time, is what makes bulk recomputation fast: the per-record work
is a list comprehension or a C-level ``map``, and the tree is walked once per batch instead of once
per record. A single record is a batch of one.

Errors never stop a column: a function that fails for one record yields an :class:`ErrorValue` in
that record's place, and every later step passes it through (except ISERROR and friends). A column
remembers whether it holds any error, so the common error-free case takes the fast path without
looking.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import repeat
from typing import Any

from crm_lib.formulas.limits import EvaluationBudget, Limits
from crm_lib.formulas.values import ErrorValue, EvalError, ValueType
from crm_lib.formulas.work_clock import work_seconds


@dataclass(slots=True)
class Column:
    """One step's results for a batch; ``has_errors`` says whether any is an :class:`ErrorValue`."""

    values: list[Any]
    has_errors: bool = False


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """What RECORD_ID, CREATED_TIME and LAST_MODIFIED_TIME read for one record."""

    id: object = None
    created_time: datetime | None = None
    last_modified_time: datetime | None = None
    field_modified_times: Mapping[str, datetime] | None = None


class BudgetExceeded(Exception):
    """The batch ran past its time budget; the formula falls back to one record at a time."""


class Batch:
    """Some records' inputs as lazily loaded, cached columns, plus the clock and the records.

    ``take(indices)`` makes a sub-batch of chosen records: IF and SWITCH run each branch on only the
    records that take it. ``deadline`` is the batch's share of the per-record time budget;
    ``budget`` the request's total, if one is being charged.
    """

    __slots__ = (
        "_cache",
        "_indices",
        "_loader",
        "_parent",
        "budget",
        "deadline",
        "n",
        "now",
        "records",
        "zone",
    )

    def __init__(
        self,
        n: int,
        loader: Callable[[str], Column] | None,
        *,
        records: Sequence[RecordInfo] | None,
        now: datetime,
        zone: tzinfo,
        deadline: float,
        budget: EvaluationBudget | None = None,
    ) -> None:
        self.n = n
        self._loader = loader
        self._parent: Batch | None = None
        self._indices: list[int] | None = None
        self._cache: dict[str, Column] = {}
        self.records = records
        self.now = now
        self.zone = zone
        self.deadline = deadline
        self.budget = budget

    def column(self, name: str) -> Column:
        """The values of field ``name`` for these records."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        if self._parent is not None:
            source = self._parent.column(name)
            values = [source.values[i] for i in self._indices]  # type: ignore[union-attr]
            column = Column(
                values, source.has_errors and any(type(v) is ErrorValue for v in values)
            )
        else:
            column = self._loader(name)  # type: ignore[misc]
        self._cache[name] = column
        return column

    def take(self, indices: list[int]) -> Batch:
        """A batch of the records at ``indices`` (positions in this batch)."""
        sub = Batch.__new__(Batch)
        sub.n = len(indices)
        sub._loader = None
        sub._parent = self
        sub._indices = indices
        sub._cache = {}
        sub.records = [self.records[i] for i in indices] if self.records is not None else None
        sub.now = self.now
        sub.zone = self.zone
        sub.deadline = self.deadline
        sub.budget = self.budget
        return sub

    def record(self, index: int) -> RecordInfo:
        if self.records is None:
            return RecordInfo()
        return self.records[index]

    def check_time(self) -> None:
        """Raise :class:`BudgetExceeded` once the batch is past its deadline, and
        :class:`~crm_lib.formulas.limits.BudgetSpent` once the request's total is used up."""
        if work_seconds() > self.deadline:
            raise BudgetExceeded
        if self.budget is not None:
            self.budget.check()


class Step(abc.ABC):
    """A compiled node: ``run(batch)`` gives one value per record."""

    __slots__ = ("constant", "is_constant", "position", "type")

    def __init__(self, kind: ValueType, position: int) -> None:
        self.type = kind
        self.position = position
        self.is_constant = False
        self.constant: object = None

    @abc.abstractmethod
    def run(self, batch: Batch) -> Column:
        """One value per record of ``batch``."""


def broadcast(value: object, n: int) -> Column:
    """A constant as a column of ``n`` records."""
    return Column([value] * n, type(value) is ErrorValue)


def runtime_message(exc: BaseException, where: str) -> str:
    """The reason shown in a cell for an exception raised while computing it."""
    if isinstance(exc, EvalError):
        return exc.message
    if isinstance(exc, ZeroDivisionError):
        return "Cannot divide by zero"
    if isinstance(exc, OverflowError):
        return "The number is too large"
    if isinstance(exc, RecursionError):
        return "The value is nested too deeply"
    if isinstance(exc, MemoryError):
        return "The result is too large"
    return f"{where} could not compute this value ({type(exc).__name__})"


# What a cell error can arise from inside a function: our own EvalError, arithmetic, and the value
# errors of the standard library's converters. Anything else is a bug and is allowed to surface.
CELL_ERRORS = (
    EvalError,
    ArithmeticError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    MemoryError,
    RecursionError,
)


def apply_scalar(
    function: Callable[..., object],
    inputs: Sequence[Column],
    n: int,
    *,
    where: str,
    position: int,
    coercers: Sequence[Callable[[object], object] | None] = (),
    accepts_errors: bool = False,
    limits: Limits | None = None,
) -> Column:
    """``function`` applied record by record, coercing each argument with its coercer.

    The fast path maps over the columns with no per-record checks; if any input holds errors or any
    record raises, the slow path redoes the work one record at a time so that only the failing
    records become errors (with their reasons).
    """
    any_errors = any(column.has_errors for column in inputs)
    if not any_errors or accepts_errors:
        try:
            arguments = [
                column.values if coerce is None else list(map(coerce, column.values))
                for column, coerce in _with_coercers(inputs, coercers)
            ]
            if not arguments:
                values = [function() for _ in range(n)]
            elif len(arguments) == 1:
                values = list(map(function, arguments[0]))
            else:
                values = list(map(function, *arguments))
            # Only functions that accept errors can pass one through on the fast path.
            return Column(values, accepts_errors and any(type(v) is ErrorValue for v in values))
        except CELL_ERRORS:
            pass
    return _apply_slow(function, inputs, n, where, position, coercers, accepts_errors)


def _with_coercers(
    inputs: Sequence[Column], coercers: Sequence[Callable[[object], object] | None]
) -> list[tuple[Column, Callable[[object], object] | None]]:
    padded = list(coercers) + [None] * (len(inputs) - len(coercers))
    return list(zip(inputs, padded, strict=True))


def _apply_slow(
    function: Callable[..., object],
    inputs: Sequence[Column],
    n: int,
    where: str,
    position: int,
    coercers: Sequence[Callable[[object], object] | None],
    accepts_errors: bool,
) -> Column:
    pairs = _with_coercers(inputs, coercers)
    out: list[object] = []
    has_errors = False
    rows = zip(*(column.values for column in inputs), strict=True) if inputs else repeat((), n)
    for row in rows:
        result: object
        error = None if accepts_errors else next((v for v in row if type(v) is ErrorValue), None)
        if error is not None:
            result = error
        else:
            try:
                args = [
                    value if coerce is None or type(value) is ErrorValue else coerce(value)
                    for value, (_, coerce) in zip(row, pairs, strict=True)
                ]
                result = function(*args)
            except CELL_ERRORS as exc:
                result = ErrorValue(runtime_message(exc, where), position)
        if type(result) is ErrorValue:
            has_errors = True
        out.append(result)
    return Column(out, has_errors)


def merge(n: int, parts: Sequence[tuple[list[int], Column]]) -> Column:
    """Put the results of sub-batches back in record order."""
    out: list[object] = [None] * n
    has_errors = False
    for indices, column in parts:
        has_errors = has_errors or column.has_errors
        for index, value in zip(indices, column.values, strict=True):
            out[index] = value
    return Column(out, has_errors)
