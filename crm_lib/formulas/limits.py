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
  cell that overruns becomes an error value instead of holding the server.
"""

from __future__ import annotations

from collections.abc import Iterator
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
