"""The audit against Airtable's formula reference: every row's example, run through evaluate().

The rows live in ``crm_lib.formulas.audit``; ``docs/formulas.md`` shows the same rows (its audit
section is rendered from them, and ``tests/test_docs.py`` fails if the file is stale). Here each
row's formula is evaluated with the audit's fixed clock and record and must give the row's result:
a value of the same kind (TRUE is not 1, a day is not a moment), a cell error, or a refusal when
the formula is saved.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from crm_lib.clock import FixedClock
from crm_lib.formulas import FormulaError, compile_formula, evaluate
from crm_lib.formulas.audit import (
    AIRTABLE_FUNCTIONS,
    AUDIT,
    NOW,
    RECORD,
    AuditRow,
    CellError,
    Refused,
    Verdict,
    function_of,
)
from crm_lib.formulas.registry import all_functions, lookup

DOCS = Path(__file__).resolve().parents[2] / "docs" / "formulas.md"


def same(got: object, expected: object) -> bool:
    """Equal value and kind: 3 and 3.0 agree, TRUE is not 1, a date is not a datetime."""
    if isinstance(expected, bool) or isinstance(got, bool):
        return got is expected
    if isinstance(expected, int | float) and isinstance(got, int | float):
        return abs(got - expected) < 1e-9
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(map(same, got, expected))
    return type(got) is type(expected) and got == expected


def _field_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list):
        return "array"
    return "text"


def check_row(row: AuditRow) -> None:
    """Evaluate the row's example and compare it with the row's expected result."""
    fields = dict(row.fields)
    clock = FixedClock(NOW)
    if isinstance(row.expected, Refused | CellError):
        with pytest.raises(FormulaError, match=re.escape(row.expected.message)):
            evaluate(row.formula, fields, clock=clock, record=RECORD)
        types = {name: _field_type(value) for name, value in fields.items()}
        if isinstance(row.expected, Refused):
            with pytest.raises(FormulaError):
                compile_formula(row.formula, types, clock=clock)
        else:
            try:
                compile_formula(row.formula, types, clock=clock)  # saved; the value is the error
            except FormulaError as error:
                pytest.fail(f"{row.formula} is refused when saved ({error}); expected a cell error")
        return
    got = evaluate(row.formula, fields, clock=clock, record=RECORD)
    assert same(got, row.expected), f"{row.formula} gave {got!r}, expected {row.expected!r}"


@pytest.mark.parametrize("row", AUDIT, ids=[row.name for row in AUDIT])
def test_airtable_audit(row: AuditRow) -> None:
    check_row(row)


def test_a_wrong_expectation_fails() -> None:
    """The check is strict enough to fail: wrong value, wrong kind, wrong kind of error."""
    good = next(row for row in AUDIT if row.name == "TRUE-is-one")
    wrong = [
        AuditRow(good.topic, "", "", Verdict.SAME, "TRUE() + TRUE()", 3, "x"),
        AuditRow(good.topic, "", "", Verdict.SAME, "1 = 1", 1, "x"),
        AuditRow(good.topic, "", "", Verdict.SAME, '"2026-01-01" & ""', date(2026, 1, 1), "x"),
        AuditRow(good.topic, "", "", Verdict.SAME, "1 / 0", Refused("Cannot divide"), "x"),
        AuditRow(good.topic, "", "", Verdict.SAME, "SUM()", CellError("SUM expects"), "x"),
    ]
    for row in wrong:
        with pytest.raises((AssertionError, pytest.fail.Exception)):
            check_row(row)


def test_rows_have_unique_test_names() -> None:
    names = [row.name for row in AUDIT]
    assert sorted({n for n in names if names.count(n) > 1}) == []


def test_every_airtable_function_is_registered_and_audited() -> None:
    audited = {function_of(row) for row in AUDIT}
    assert [name for name in AIRTABLE_FUNCTIONS if lookup(name) is None] == []
    assert [name for name in AIRTABLE_FUNCTIONS if name not in audited] == []


def test_every_registered_function_is_audited() -> None:
    audited = {function_of(row) for row in AUDIT}
    missing = sorted(spec.name for spec in all_functions() if spec.name not in audited)
    assert missing == []
    ours_only = {function_of(row) for row in AUDIT if row.verdict is Verdict.OURS_ONLY}
    assert ours_only.isdisjoint(AIRTABLE_FUNCTIONS)


def test_docs_table_lists_every_row_with_its_example_and_test() -> None:
    """docs/formulas.md's audit section has one row per audit row, in order, naming its test."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Audit against Airtable's reference", 1)[1]
    tests = re.findall(r"`test_airtable_audit\[([^\]]+)\]`", section)
    assert tests == [row.name for row in AUDIT]
    for row in AUDIT:
        shown = row.formula.replace("|", "\\|")
        assert f"`{shown}`" in section, row.name
