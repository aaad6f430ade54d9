"""The public face of the engine: ``compile_formula``, ``Formula`` and ``evaluate``.

``compile_formula`` does all the checking once; a :class:`Formula` then evaluates one record
(``evaluate``) or whole columns (``evaluate_many``) without ever raising for a record's values: a
record whose value cannot be computed gets an :class:`ErrorValue` with the reason. ``evaluate``
(the module function) is the convenience for one-off use and raises :class:`FormulaError` instead.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_lib.clock import Clock, SystemClock
from crm_lib.errors import FormulaError
from crm_lib.formulas.compiler import Compiler, infer_type, value_type_of
from crm_lib.formulas.engine import Batch, BudgetExceeded, Column, RecordInfo, Step
from crm_lib.formulas.limits import DEFAULT_LIMITS, Limits, active_budget, using_limits
from crm_lib.formulas.parser import parse
from crm_lib.formulas.values import ErrorValue, ValueType, parse_number_text
from crm_lib.formulas.work_clock import measuring, work_seconds

T = ValueType


class Formula:
    """A compiled formula: what it reads, what it returns, and how to compute it.

    ``dependencies`` are the field names it reads (as spelled in ``field_types``);
    ``result_type`` is the inferred :class:`ValueType`; ``reads_clock`` says whether its value
    changes with time (TODAY, NOW), so the grid knows to refresh it daily.
    """

    def __init__(
        self,
        text: str,
        root: Step,
        *,
        dependencies: frozenset[str],
        field_types: Mapping[str, ValueType],
        reads_clock: bool,
        reads_record: bool,
        clock: Clock,
        zone: tzinfo,
        limits: Limits,
    ) -> None:
        self.text = text
        self.dependencies = dependencies
        self.result_type = root.type
        self.reads_clock = reads_clock
        self.reads_record = reads_record
        self._root = root
        self._field_types = {name: field_types[name] for name in dependencies}
        self._clock = clock
        self._zone = zone
        self._limits = limits

    def __repr__(self) -> str:
        return f"Formula({self.text!r}, result_type={self.result_type.value!r})"

    def evaluate(self, values: Mapping[str, object], record: RecordInfo | None = None) -> object:
        """The value for one record; an :class:`ErrorValue` if it cannot be computed."""
        columns = {name: [values.get(name)] for name in self.dependencies}
        return self.evaluate_many(columns, [record] if record is not None else None, n=1)[0]

    def evaluate_many(
        self,
        columns: Mapping[str, Sequence[object]],
        records: Sequence[RecordInfo] | None = None,
        *,
        n: int | None = None,
    ) -> list[object]:
        """One value per record for whole columns (``{field name: values}``), in record order.

        Missing dependency columns count as blank. ``records`` feeds RECORD_ID and friends.
        Under a request's total budget (:class:`~crm_lib.formulas.limits.EvaluationBudget`) this
        raises :class:`~crm_lib.formulas.limits.BudgetSpent` once the budget is used up.
        """
        count = n if n is not None else _row_count(columns, records)
        now = self._clock.now()
        with using_limits(self._limits), measuring():
            loader = self._loader(columns, count)
            started = work_seconds()
            budget = self._limits.cell_time_budget_s
            batch = Batch(
                count, loader, records=records, now=now, zone=self._zone,
                deadline=started + budget * max(count, 1), budget=active_budget(),
            )  # fmt: skip
            try:
                return self._finish(self._root.run(batch))
            except BudgetExceeded:
                if count == 1:
                    return [self._over_budget()]
            # A batch ran long: redo it record by record so only the slow records become errors.
            out: list[object] = []
            for index in range(count):
                single = batch.take([index])
                single.deadline = work_seconds() + budget
                try:
                    out.append(self._finish(self._root.run(single))[0])
                except BudgetExceeded:
                    out.append(self._over_budget())
            return out

    def _over_budget(self) -> ErrorValue:
        limit_ms = self._limits.cell_time_budget_s * 1000
        return ErrorValue(f"This formula took longer than {limit_ms:g} ms for this record", 0)

    @staticmethod
    def _finish(column: Column) -> list[object]:
        values = column.values
        if math.inf in values or -math.inf in values:
            return [
                ErrorValue("The number is too large") if x in (math.inf, -math.inf) else x
                for x in values
            ]
        return values

    def _loader(
        self, columns: Mapping[str, Sequence[object]], count: int
    ) -> Callable[[str], Column]:
        def load(name: str) -> Column:
            raw = columns.get(name)
            if raw is None:
                return Column([None] * count)
            return load_column(raw, self._field_types[name])

        return load


def _row_count(columns: Mapping[str, Sequence[object]], records: Sequence[object] | None) -> int:
    sizes = {len(values) for values in columns.values()}
    if records is not None:
        sizes.add(len(records))
    if len(sizes) > 1:
        raise FormulaError(f"Columns have different lengths: {sorted(sizes)}")
    return sizes.pop() if sizes else 0


# --- loading stored values -------------------------------------------------------------------

_NUMBER_KINDS = frozenset({int, float, type(None)})


def load_column(raw: Sequence[object], kind: ValueType) -> Column:
    """Stored values (as SQLite returns them) → engine values, once per column.

    Dates arrive as ISO text, checkboxes as 0/1, multi-selects as JSON text; other formulas'
    results may already hold engine values, including errors.
    """
    values = list(raw)
    present = set(map(type, values))
    if kind is T.NUMBER and present <= _NUMBER_KINDS:
        return Column(values)
    if kind is T.TEXT and present <= {str, type(None)}:
        return Column(values)
    converted = [_load_value(value, kind) for value in values]
    return Column(converted, ErrorValue in present)


def _load_value(value: object, kind: ValueType) -> object:
    if value is None or type(value) is ErrorValue:
        return value
    if kind is T.NUMBER:
        if type(value) is str:
            number = parse_number_text(value) if value.strip() else None
            return value if number is None and value.strip() else number
        return value
    if kind is T.BOOLEAN:
        return bool(value) if type(value) in (int, float, bool) else value
    if kind in (T.DATE, T.DATETIME) and type(value) is str:
        if not value:
            return None
        try:
            if kind is T.DATE and len(value) == 10:
                return date.fromisoformat(value)
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value  # left as text; date functions will say they cannot read it
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if kind is T.DATETIME and type(value) is datetime and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if kind is T.ARRAY and type(value) is str:
        if not value:
            return []
        try:
            decoded = json.loads(value)
        except ValueError:
            return [value]
        return decoded if isinstance(decoded, list) else [decoded]
    return value


# --- the public functions --------------------------------------------------------------------


def compile_formula(
    formula: str,
    field_types: Mapping[str, str],
    *,
    clock: Clock | None = None,
    timezone: str = "UTC",
    limits: Limits = DEFAULT_LIMITS,
) -> Formula:
    """Check and compile ``formula`` against the fields it may use.

    ``field_types`` maps each field name to its type: a grid field type (``"currency"``,
    ``"single_select"``, ``"multi_select"``, ...) or a formula value type (``"number"``, ``"text"``,
    ``"boolean"``, ``"date"``, ``"datetime"``, ``"array"``, ``"any"``). Raises :class:`FormulaError`
    with a message and position for anything wrong with the formula.
    """
    types = {name: value_type_of(kind) for name, kind in field_types.items()}
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise FormulaError(f'Unknown time zone "{timezone}"') from None
    with using_limits(limits):
        tree = parse(formula, limits)
        compiler = Compiler(formula, types, limits)
        root = compiler.compile(tree)
    return Formula(
        formula,
        root,
        dependencies=frozenset(compiler.dependencies),
        field_types=types,
        reads_clock=compiler.reads_clock,
        reads_record=compiler.reads_record,
        clock=clock or SystemClock(),
        zone=zone,
        limits=limits,
    )


def evaluate(
    formula: str,
    fields: Mapping[str, object],
    *,
    clock: Clock | None = None,
    record: RecordInfo | None = None,
) -> Any:
    """The value of ``formula`` for one record's ``fields`` (types inferred from the values).

    Raises :class:`FormulaError` for an invalid formula and for a value that cannot be computed.
    """
    signature = tuple(sorted((name, infer_type(value).value) for name, value in fields.items()))
    compiled = _cached_compile(formula, signature)
    if clock is not None:
        compiled = compile_formula(formula, dict(signature), clock=clock)
    result = compiled.evaluate(fields, record)
    if type(result) is ErrorValue:
        raise FormulaError(result.message, position=result.position)
    return result


@functools.lru_cache(maxsize=256)
def _cached_compile(formula: str, signature: tuple[tuple[str, str], ...]) -> Formula:
    return compile_formula(formula, dict(signature))
