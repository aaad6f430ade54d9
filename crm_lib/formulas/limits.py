"""Sandbox limits: what a hostile or careless formula may cost, and the regex engine that keeps it so.

A formula is user input evaluated inside the server, so every way it could consume unbounded time or
memory has a cap with a clear message:

- the formula text (``max_formula_length``) and its nesting (``max_depth``) are checked at compile
  time, before anything runs;
- every text a formula produces is capped (``max_text_length``), so ``REPT("x", 1e9)`` or a chain of
  ``&`` cannot build a gigabyte string;
- regular expressions run on RE2 (``regex.py``), whose matching time is linear in the input: no
  pattern can backtrack catastrophically. Patterns are capped in length (``max_regex_length``);
- each cell has a time budget (``cell_time_budget_s``). The evaluator checks it between steps; a
  cell that overruns becomes an error value instead of holding the server;
- all the evaluation one request causes shares a total budget (:class:`EvaluationBudget`): the
  per-cell cap alone lets a formula that takes 40 ms a record run for an hour over 100,000
  records, holding the one SQLite writer all along. Past the total, evaluation stops with
  :class:`BudgetSpent`, which the grid turns into a refusal of the whole change.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from crm_lib.formulas.values import EvalError


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps for one formula's compilation and evaluation (defaults suit a shared server)."""

    max_formula_length: int = 10_000
    max_depth: int = 64
    max_text_length: int = 100_000
    max_regex_length: int = 1_000
    max_array_length: int = 10_000
    cell_time_budget_s: float = 0.05


DEFAULT_LIMITS = Limits()
_ACTIVE: ContextVar[Limits] = ContextVar("formula_limits", default=DEFAULT_LIMITS)


#: Seconds of formula evaluation one request may use in total, unless the caller says otherwise
#: (the grid passes ``CRM_FORMULA_BUDGET_S``, the same default). Measured at 100,000 investors on a
#: busy 2-core machine: adding a typical formula field evaluates for 1.1-2.3 s, recomputing all 5
#: of bench_grid's for 1.7-3.4 s, and an import changing a field that 4 formulas read, record by
#: record, for about 16 s. A formula that costs 25 ms a record (under the per-record cap) would
#: take 40 minutes there; it is stopped after this.
DEFAULT_REQUEST_BUDGET_S = 60.0


def active_limits() -> Limits:
    """The limits of the formula being compiled or evaluated in this thread/task."""
    return _ACTIVE.get()


@contextmanager
def using_limits(limits: Limits) -> Iterator[Limits]:
    """Make ``limits`` the active limits for the duration of a compile or an evaluation."""
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


def check_text(text: str) -> str:
    """``text`` if it is within the text cap, else a cell error that says so."""
    limits = _ACTIVE.get()
    if len(text) > limits.max_text_length:
        raise EvalError(
            f"Text result is {len(text):,} characters; the limit is {limits.max_text_length:,}"
        )
    return text


class BudgetSpent(Exception):
    """The request's total evaluation budget ran out. Not a cell error: it stops the whole
    evaluation (the engine never catches it), and the caller refuses the change it was part of.

    ``formula`` is the name of the formula being computed when it ran out (set by the graph).
    """

    def __init__(self, budget: EvaluationBudget) -> None:
        super().__init__(f"Formula evaluation took longer than {budget.seconds:g} s")
        self.budget = budget
        self.formula: str | None = None


class EvaluationBudget:
    """The time all formula evaluation of one request may take together: rows times cost per row.

    Only time spent evaluating counts (:meth:`charging` brackets each evaluation), so reading
    and writing rows around it does not eat into it. ``timer`` is injectable (seconds, monotonic)
    so tests can make time pass without sleeping. ``records`` counts the records the caller
    finished, for the message when the budget runs out.
    """

    def __init__(
        self,
        seconds: float = DEFAULT_REQUEST_BUDGET_S,
        *,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.seconds = seconds
        self.timer = timer
        self.spent = 0.0
        self.records = 0
        self._deadline = timer() + seconds

    @contextmanager
    def charging(self) -> Iterator[EvaluationBudget]:
        """Count the time of the evaluation inside the block, which :meth:`check` then limits;
        the budget is the active one (:func:`active_budget`) for the engine meanwhile."""
        started = self.timer()
        self._deadline = started + (self.seconds - self.spent)
        token = _BUDGET.set(self)
        try:
            yield self
        finally:
            _BUDGET.reset(token)
            self.spent += self.timer() - started

    def check(self) -> None:
        """Raise :class:`BudgetSpent` once evaluation has used the whole budget."""
        if self.timer() > self._deadline:
            raise BudgetSpent(self)


_BUDGET: ContextVar[EvaluationBudget | None] = ContextVar("formula_budget", default=None)


def active_budget() -> EvaluationBudget | None:
    """The budget the evaluation running in this thread/task is charged to (None: unlimited,
    e.g. one-off :func:`~crm_lib.formulas.evaluate` calls and compile-time constant folding)."""
    return _BUDGET.get()


_REQUEST: ContextVar[EvaluationBudget | None] = ContextVar("formula_request", default=None)


@contextmanager
def request_budget(
    seconds: float | None = None, *, timer: Callable[[], float] | None = None
) -> Iterator[EvaluationBudget]:
    """Run a request under one total budget; inside an outer request, share the outer one.

    Nested service calls are part of their caller's request, so they never get a fresh budget;
    the outermost call decides (which is also how a test or a job sets a budget of its own).
    """
    outer = _REQUEST.get()
    if outer is not None:
        yield outer
        return
    budget = EvaluationBudget(
        DEFAULT_REQUEST_BUDGET_S if seconds is None else seconds,
        timer=timer or time.perf_counter,
    )
    token = _REQUEST.set(budget)
    try:
        yield budget
    finally:
        _REQUEST.reset(token)


def current_request_budget() -> EvaluationBudget | None:
    """The budget of the request running in this thread/task, if one was opened."""
    return _REQUEST.get()
