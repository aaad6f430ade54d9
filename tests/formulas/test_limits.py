"""The sandbox: caps on length, depth, text size, regex work and time, each with a clear message."""

from __future__ import annotations

import gc
import sys
import time

import pytest

from crm_lib.formulas import (
    ErrorValue,
    FormulaError,
    FormulaGraph,
    Limits,
    compile_formula,
    evaluate,
)
from crm_lib.formulas.limits import BudgetSpent, EvaluationBudget


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


def test_a_garbage_collection_during_an_evaluation_is_not_charged_to_the_record() -> None:
    """A full collection of a big process can take longer than the 50 ms budget (seen in CI: a
    ``ROUND({Amount} * 1.5, 1)`` reported as "took longer than 50 ms"). Here every collection
    that starts during the evaluation burns 80 ms of this thread's CPU, as a large heap's would;
    the record still gets its value, and a formula that really overruns is still stopped."""
    burned: list[float] = []

    def slow_collection(phase: str, _info: dict[str, int]) -> None:
        if phase == "start" and not burned and _inside_a_formula_step():
            until = time.thread_time() + 0.08
            while time.thread_time() < until:
                pass
            burned.append(0.08)

    formula = compile_formula("ROUND({Amount} * 1.5, 1)", {"Amount": "currency"})
    thresholds = gc.get_threshold()
    gc.callbacks.append(slow_collection)
    gc.set_threshold(1)
    try:
        value = formula.evaluate({"Amount": 20})
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(slow_collection)
    assert burned, "no collection ran during the evaluation"
    assert value == 30
    still_bounded = compile_formula(
        'REPT({t}, 3) & "!"', {"t": "text"}, limits=Limits(cell_time_budget_s=0)
    )
    assert isinstance(still_bounded.evaluate({"t": "a"}), ErrorValue)


def _inside_a_formula_step() -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "run" and "crm_lib" in frame.f_code.co_filename:
            return True
        frame = frame.f_back
    return False


class Ticks:
    """A timer that moves ``step`` seconds each time it is read: time passes, nothing sleeps."""

    def __init__(self, step: float) -> None:
        self.now, self.step, self.reads = 0.0, step, 0

    def __call__(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now


def test_a_request_budget_stops_evaluation_across_formulas_and_names_the_one_running() -> None:
    """The per-record cap never trips here (each record is cheap); the request's total does, part
    way through the second formula, and the stop is not a cell error but BudgetSpent."""
    types = {"Name": "text"}
    formulas = {
        "Shout": compile_formula("UPPER({Name})", types),
        "Echo": compile_formula(
            'IF(LEN({Shout}) > 2, {Shout} & "!", "")', {**types, "Shout": "text"}
        ),
    }
    graph = FormulaGraph(formulas)
    columns = {"Name": ["alpha", "beta", "gamma"]}
    # The timer moves 1 s a read: the budget's start, the charge's start, then one read per
    # step checked (UPPER: 1; the IF: 4), so 3 s run out in the middle of {Echo}.
    budget = EvaluationBudget(3, timer=Ticks(1.0))
    with pytest.raises(BudgetSpent) as raised, budget.charging():
        graph.recompute_columns(columns, ["Name"])
    assert raised.value.formula == "Echo" and raised.value.budget is budget
    assert budget.spent >= 3
    with budget.charging(), pytest.raises(BudgetSpent):  # once spent, it stays spent
        formulas["Shout"].evaluate_many(columns)
    assert graph.recompute_columns(columns, ["Name"])["Echo"] == ["ALPHA!", "BETA!", "GAMMA!"]


def test_only_charged_time_counts_against_the_budget() -> None:
    timer = Ticks(1.0)
    budget = EvaluationBudget(10, timer=timer)
    formula = compile_formula("{n} * 2", {"n": "number"})
    for _ in range(3):
        timer.now += 100  # reading and writing rows between evaluations is not charged
        with budget.charging():
            assert formula.evaluate_many({"n": [1, 2]}) == [2, 4]
    assert budget.spent < 10
