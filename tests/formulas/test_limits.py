"""The sandbox: caps on length, depth, text size, regex work and time, each with a clear message."""

from __future__ import annotations

import time

import pytest

from crm_lib.formulas import ErrorValue, FormulaError, Limits, compile_formula, evaluate


def test_formula_length_is_capped() -> None:
    with pytest.raises(FormulaError, match="10,001 characters long; the limit is 10,000"):
        compile_formula("1" + "+1" * 5000, {})


def test_nesting_depth_is_capped_without_exhausting_the_stack() -> None:
    with pytest.raises(FormulaError, match=r"nested 65 levels deep .* the limit is 64"):
        compile_formula("(" * 3000 + "1" + ")" * 3000, {})
    with pytest.raises(FormulaError, match="the limit is 64"):
        compile_formula("ABS(" * 100 + "1" + ")" * 100, {})
    assert evaluate("ABS(" * 60 + "-1" + ")" * 60, {}) == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('REPT("abc", 1e9)', "REPT would make 3,000,000,000 characters; the limit is 100,000"),
        ('SUBSTITUTE(REPT("a", 90000), "a", "aa")', "SUBSTITUTE would make 180,000 characters"),
        (
            'REPT("x", 60000) & REPT("y", 60000)',
            "Text result is 120,000 characters; the limit is 100,000",
        ),
        ('CONCATENATE(REPT("x", 60000), REPT("y", 60000))', "Text result is 120,000 characters"),
        ("POWER(10, 400)", "The number is too large"),
        ("1e308 * 10", "The number is too large"),
        ('WORKDAY("2026-01-01", 1e12)', "The date is out of range"),
        ('DATEADD("2026-01-01", 1e6, "years")', "The date is out of range"),
    ],
)
def test_resource_bombs_become_errors(text: str, message: str) -> None:
    with pytest.raises(FormulaError, match=message):
        evaluate(text, {})


def test_text_cap_applies_per_record_in_bulk() -> None:
    formula = compile_formula("{a} & {a}", {"a": "text"}, limits=Limits(max_text_length=10))
    got = formula.evaluate_many({"a": ["abc", "abcdefgh"]})
    assert got[0] == "abcabc"
    assert got[1] == ErrorValue("Text result is 16 characters; the limit is 10", 4)


def test_a_pathological_regex_runs_in_linear_time() -> None:
    """``(a+)+$`` backtracks exponentially in Python's re; on RE2 it is one linear pass."""
    text = "a" * 50_000 + "!"
    started = time.perf_counter()
    assert evaluate('REGEX_MATCH({t}, "(a+)+$")', {"t": text}) is False
    assert evaluate('REGEX_MATCH({t}, "(a|aa)*b")', {"t": text}) is False
    assert time.perf_counter() - started < 1.0


def test_bad_and_oversized_patterns_are_cell_errors() -> None:
    with pytest.raises(FormulaError, match=r"Invalid regular expression '\(a': missing \)"):
        evaluate('REGEX_MATCH("a", "(a")', {})
    with pytest.raises(FormulaError, match="Regular expression is 1,001 characters"):
        evaluate('REGEX_MATCH("a", REPT("a", 1001))', {})
    with pytest.raises(FormulaError, match=r"uses \$2 but the pattern has 1 group"):
        evaluate('REGEX_REPLACE("ab", "(a)", "$2")', {})


def test_regex_works_on_any_unicode_text() -> None:
    assert evaluate('REGEX_REPLACE("Zoë Müller", "ü|ë", "_")', {}) == "Zo_ M_ller"
    assert evaluate('REGEX_EXTRACT("日本 fund", "\\\\w+$")', {}) == "fund"
    assert evaluate('REGEX_REPLACE("日本", "", "-")', {}) == "-日-本-"


def test_the_time_budget_turns_an_overrun_into_that_records_error() -> None:
    """A zero budget is already spent when evaluation starts: every record reports the overrun,
    in bulk too (the batch falls back to one record at a time so each gets its own error)."""
    formula = compile_formula(
        'REPT({t}, 3) & "!"', {"t": "text"}, limits=Limits(cell_time_budget_s=0)
    )
    single = formula.evaluate({"t": "a"})
    assert isinstance(single, ErrorValue) and "took longer than 0 ms" in single.message
    assert all(isinstance(value, ErrorValue) for value in formula.evaluate_many({"t": ["a", "b"]}))
    generous = compile_formula(
        'REPT({t}, 3) & "!"', {"t": "text"}, limits=Limits(cell_time_budget_s=5)
    )
    assert generous.evaluate_many({"t": ["a", "b"]}) == ["aaa!", "bbb!"]
