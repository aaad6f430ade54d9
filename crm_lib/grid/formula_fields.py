"""Formula fields of the investor grid: compiled against the live fields, results stored.

A formula field is a ``grid_fields`` row of type ``formula`` (its text in ``formula``, its result
type in ``options.result_type``) plus a real column holding each record's result. Storing results
means SQL filters, sorts, DuckDB and exports see them like any other value; the price is keeping
them current, which this module does:

- a record write recomputes, in the same transaction, only the formulas that read a changed field
  (directly or through other formulas) — :meth:`GridFormulas.record_values`;
- a new or changed formula recomputes its column and everything downstream, a column at a time —
  :meth:`GridFormulas.column_values`.

Formulas name fields by label (``{Total invested}``); the graph works in labels and this module
translates to column keys. A cell that cannot be computed stores ``"#ERROR: <reason>"`` (text), so
the reason is visible in the grid, in SQL and in exports, and dependents read it back as an error.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crm_lib.clock import Clock
from crm_lib.errors import FormulaError
from crm_lib.formulas import ErrorValue, Formula, FormulaGraph, RecordInfo, compile_formula
from crm_lib.grid.fields import FieldSpec

ERROR_PREFIX = "#ERROR: "
#: Result type -> SQL column type of the stored results (what DuckDB and analysts see).
RESULT_SQL_TYPES = {"number": "REAL", "boolean": "INTEGER"}


def result_sql_type(result_type: str) -> str:
    return RESULT_SQL_TYPES.get(result_type, "TEXT")


def input_type(spec: FieldSpec) -> str:
    """How a formula sees a field: its grid type, or a formula field's result type."""
    if spec.formula is not None:
        return str(spec.options.get("result_type", "any"))
    return spec.type


def stored_result(value: Any) -> Any:
    """An engine value as the stored cell value (SQLite-friendly, readable by analysts)."""
    if value is None or isinstance(value, int | float | str):
        return int(value) if isinstance(value, bool) else value
    if isinstance(value, ErrorValue):
        return f"{ERROR_PREFIX}{value.message}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps([stored_result(item) for item in value], default=str)
    return str(value)


def _loaded(value: Any) -> Any:
    """A stored formula result as an engine value (stored errors become errors again)."""
    if isinstance(value, str) and value.startswith(ERROR_PREFIX):
        return ErrorValue(value[len(ERROR_PREFIX) :])
    return value


def _record_info(row: Mapping[str, Any]) -> RecordInfo:
    def moment(text: Any) -> datetime | None:
        return datetime.fromisoformat(text) if isinstance(text, str) and text else None

    return RecordInfo(
        id=row.get("id"),
        created_time=moment(row.get("created_at")),
        last_modified_time=moment(row.get("updated_at")),
    )


@dataclass(frozen=True)
class GridFormulas:
    """The grid's compiled formula fields and their dependency graph (labels ↔ keys)."""

    graph: FormulaGraph
    key_of: Mapping[str, str]  # label -> column key, for every field
    formula_keys: frozenset[str]
    broken: Mapping[str, str]  # label -> why its stored formula no longer compiles

    def _label(self, key: str) -> str:
        for label, candidate in self.key_of.items():
            if candidate == key:
                return label
        raise KeyError(key)

    def affected_keys(self, changed_keys: Iterable[str]) -> list[str]:
        """Formula columns to recompute when these columns change, in evaluation order."""
        labels = [self._label(key) for key in changed_keys if key in self.key_of.values()]
        return [self.key_of[label] for label in self.graph.affected_by(labels)]

    def readers_of(self, key: str) -> list[str]:
        """Labels of formula fields that read the field ``key`` (directly)."""
        label = self._label(key)
        return sorted(self.graph.readers.get(label, ()))

    def record_values(self, row: Mapping[str, Any], changed_keys: Iterable[str]) -> dict[str, Any]:
        """Stored values of the formula columns that ``changed_keys`` affect, for one row."""
        changed = [self._label(key) for key in changed_keys if key in self.key_of.values()]
        if not changed or not self.graph.affected_by(changed):
            return {}
        values = {
            label: _loaded(row.get(key)) if key in self.formula_keys else row.get(key)
            for label, key in self.key_of.items()
        }
        results = self.graph.recompute_record(values, changed, _record_info(row))
        return {self.key_of[label]: stored_result(value) for label, value in results.items()}

    def column_values(
        self, rows: Sequence[Mapping[str, Any]], changed_keys: Iterable[str]
    ) -> dict[str, list[Any]]:
        """Stored values of affected formula columns for many rows, a column at a time."""
        changed = [self._label(key) for key in changed_keys if key in self.key_of.values()]
        if not rows or not self.graph.affected_by(changed):
            return {}
        columns = {
            label: [_loaded(r.get(key)) for r in rows]
            if key in self.formula_keys
            else [r.get(key) for r in rows]
            for label, key in self.key_of.items()
        }
        records = [_record_info(r) for r in rows]
        results = self.graph.recompute_columns(columns, changed, records)
        return {
            self.key_of[label]: [stored_result(value) for value in values]
            for label, values in results.items()
        }


def compile_field_formula(
    text: str, fields: Mapping[str, FieldSpec], *, own_key: str | None = None, clock: Clock
) -> Formula:
    """Compile a formula against the other live fields (a formula never reads itself)."""
    types = {spec.label: input_type(spec) for key, spec in fields.items() if key != own_key}
    return compile_formula(text, types, clock=clock)


def grid_formulas(fields: Mapping[str, FieldSpec], clock: Clock) -> GridFormulas:
    """The compiled formula graph for these fields (cached on the fields' definitions)."""
    signature = tuple(
        (s.key, s.label, s.type, s.formula, str(s.options.get("result_type", "")))
        for s in fields.values()
    )
    return _compiled(signature, clock)


@functools.lru_cache(maxsize=32)
def _compiled(
    signature: tuple[tuple[str, str, str, str | None, str], ...], clock: Clock
) -> GridFormulas:
    types = {
        label: (result_type or "any") if formula is not None else kind
        for _key, label, kind, formula, result_type in signature
    }
    formulas: dict[str, Formula] = {}
    broken: dict[str, str] = {}
    for _key, label, _kind, formula, _rt in signature:
        if formula is None:
            continue
        try:
            others = {name: kind for name, kind in types.items() if name != label}
            formulas[label] = compile_formula(formula, others, clock=clock)
        except FormulaError as exc:
            # Field changes that would break a formula are refused, so this means a database
            # edited by hand: keep the other formulas working, leave this column as it is.
            broken[label] = exc.message
    return GridFormulas(
        graph=FormulaGraph(formulas),
        broken=broken,
        key_of={label: key for key, label, *_ in signature},
        formula_keys=frozenset(
            key for key, label, _k, formula, _r in signature if formula and label not in broken
        ),
    )
